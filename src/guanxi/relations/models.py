"""Relationship intelligence (关系): the decision chain (决策链), links between people, referrals
(转介绍) and the maintenance playbook of each of the four relationship types (DOMAIN §1–§2)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import RelationshipType


class DecisionRoleKind(models.TextChoices):
    """A contact's part in the buying decision; a person may hold several."""

    DECISION_MAKER = "decision_maker", _("拍板者")
    INFLUENCER = "influencer", _("影响者")
    USER = "user", _("使用者")
    TECHNICAL_EVALUATOR = "technical_evaluator", _("技术评估者")
    PURCHASER = "purchaser", _("采购者")
    GATEKEEPER = "gatekeeper", _("把关者")
    SPONSOR = "sponsor", _("内部支持者")


class Stance(models.TextChoices):
    UNKNOWN = "unknown", _("未知")
    SUPPORTER = "supporter", _("支持")
    NEUTRAL = "neutral", _("中立")
    OPPONENT = "opponent", _("反对")


class Warmth(models.IntegerChoices):
    """How warm our relationship with the person is (关系温度)."""

    UNKNOWN = 0, _("未知")
    COLD = 1, _("冷淡")
    ACQUAINTED = 2, _("认识")
    FRIENDLY = 3, _("友好")
    WARM = 4, _("熟络")
    CLOSE = 5, _("铁杆")


class DecisionRole(models.Model):
    """One role (决策角色) of a contact in a customer's buying decision.

    ``customer`` repeats the contact's customer so that a customer's whole chain is one indexed
    read and the visibility rule can be applied without a join through the contact.
    """

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="decision_roles"
    )
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="decision_roles")
    role = models.CharField(_("决策角色"), max_length=24, choices=DecisionRoleKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact", "role"], name="decisionrole_unique")]
        indexes = [models.Index(fields=["customer", "role"], name="decisionrole_customer_role")]

    def __str__(self) -> str:
        return f"{self.contact_id}:{self.role}"


class ContactStanding(models.Model):
    """Where a contact stands toward us (立场) and how warm our relationship with them is."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="standings")
    contact = models.OneToOneField("customers.Contact", on_delete=models.CASCADE, related_name="standing")
    stance = models.CharField(_("立场"), max_length=10, choices=Stance.choices, default=Stance.UNKNOWN)
    warmth = models.PositiveSmallIntegerField(_("关系温度"), choices=Warmth.choices, default=Warmth.UNKNOWN)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(warmth__lte=5), name="standing_warmth_range"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.stance}/{self.warmth}"


class LinkKind(models.TextChoices):
    REPORTS_TO = "reports_to", _("汇报给")
    INFLUENCES = "influences", _("影响")
    FRIEND = "friend", _("朋友")
    FORMER_COLLEAGUE = "former_colleague", _("前同事")
    FAMILY = "family", _("亲属")


# Links that read the same both ways: stored once, with the lower contact id first.
SYMMETRIC_LINKS = frozenset({LinkKind.FRIEND, LinkKind.FORMER_COLLEAGUE, LinkKind.FAMILY})


class PersonLink(models.Model):
    """A typed link between two people (人脉关系), possibly at two different customers."""

    from_contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="links_out")
    to_contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="links_in")
    # The contacts' customers, repeated so a customer's links and the visibility check are one read.
    from_customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    to_customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("关系"), max_length=20, choices=LinkKind.choices)
    strength = models.PositiveSmallIntegerField(_("强度"), default=3)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(from_contact=models.F("to_contact")), name="personlink_not_self"
            ),
            models.CheckConstraint(
                condition=models.Q(strength__gte=1, strength__lte=5), name="personlink_strength_range"
            ),
            models.UniqueConstraint(fields=["from_contact", "to_contact", "kind"], name="personlink_unique"),
        ]
        indexes = [
            models.Index(fields=["from_customer"], name="personlink_from_customer"),
            models.Index(fields=["to_customer"], name="personlink_to_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.from_contact.name} → {self.to_contact.name}: {self.get_kind_display()}"


class ReferrerKind(models.TextChoices):
    CUSTOMER = "customer", _("客户")
    CONTACT = "contact", _("联系人")
    USER = "user", _("同事")
    EXTERNAL = "external", _("外部伙伴")


class Referral(models.Model):
    """Who introduced whom (转介绍): a customer (or one of its people) referred by a customer, one of
    its contacts, one of our users, or an outside partner known only by name.

    ``referrer_customer`` is also filled when the referrer is a contact (their customer), so the
    customer-level referral graph reads one column.
    """

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="referrals_in",
        verbose_name=_("被介绍客户"),
    )
    contact = models.ForeignKey(
        "customers.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referred_by",
        verbose_name=_("被介绍联系人"),
    )
    referrer_kind = models.CharField(_("介绍人类型"), max_length=10, choices=ReferrerKind.choices)
    referrer_customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="referrals_out",
        verbose_name=_("介绍人客户"),
    )
    referrer_contact = models.ForeignKey(
        "customers.Contact",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="referrals_made",
        verbose_name=_("介绍人"),
    )
    referrer_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals_made",
        verbose_name=_("介绍同事"),
    )
    referrer_name = models.CharField(_("外部介绍人"), max_length=100, blank=True)
    referred_on = models.DateField(_("介绍日期"))
    note = models.CharField(_("备注"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        referrer_kind="customer",
                        referrer_customer__isnull=False,
                        referrer_contact__isnull=True,
                        referrer_user__isnull=True,
                        referrer_name="",
                    )
                    | models.Q(
                        referrer_kind="contact",
                        referrer_customer__isnull=False,
                        referrer_contact__isnull=False,
                        referrer_user__isnull=True,
                        referrer_name="",
                    )
                    | models.Q(
                        referrer_kind="user",
                        referrer_customer__isnull=True,
                        referrer_contact__isnull=True,
                        referrer_user__isnull=False,
                        referrer_name="",
                    )
                    | models.Q(
                        referrer_kind="external",
                        referrer_customer__isnull=True,
                        referrer_contact__isnull=True,
                        referrer_user__isnull=True,
                    )
                    & ~models.Q(referrer_name="")
                ),
                name="referral_one_referrer",
            ),
            models.CheckConstraint(
                condition=~models.Q(referrer_customer=models.F("customer")), name="referral_not_self"
            ),
        ]
        indexes = [
            models.Index(fields=["customer"], name="referral_customer"),
            models.Index(fields=["referrer_customer"], name="referral_referrer_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.referrer_label} → {self.customer.name}"

    @property
    def referrer_label(self) -> str:
        if self.referrer_kind == ReferrerKind.CONTACT and self.referrer_contact is not None:
            return f"{self.referrer_contact.name} ({self.referrer_customer})"
        if self.referrer_kind == ReferrerKind.CUSTOMER and self.referrer_customer is not None:
            return str(self.referrer_customer)
        if self.referrer_kind == ReferrerKind.USER and self.referrer_user is not None:
            return str(self.referrer_user)
        return self.referrer_name


class Basis(models.TextChoices):
    """What a relationship rests on (DOMAIN §2): 讲义, 讲情, 讲利, 讲理."""

    LOYALTY = "loyalty", _("讲义（忠诚）")
    FEELING = "feeling", _("讲情（感情）")
    PROFIT = "profit", _("讲利（利益）")
    REASON = "reason", _("讲理（道理）")


class Playbook(models.Model):
    """The maintenance playbook (维护手册) of one relationship type: what it rests on, what to do,
    how often, and what to watch. Data, edited by an administrator; shipped with defaults."""

    relationship_type = models.CharField(
        _("关系类型"), max_length=10, choices=RelationshipType.choices, unique=True
    )
    basis = models.CharField(_("维系基础"), max_length=10, choices=Basis.choices)
    cadence_days = models.PositiveSmallIntegerField(_("建议联系周期(天)"))
    summary_zh = models.TextField(_("概述（中文）"))
    summary_en = models.TextField(_("概述（英文）"))
    actions_zh = models.TextField(_("建议行动（中文，每行一条）"))
    actions_en = models.TextField(_("建议行动（英文，每行一条）"))
    checks_zh = models.TextField(_("检查项（中文，每行一条）"))
    checks_en = models.TextField(_("检查项（英文，每行一条）"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cadence_days__gte=1, cadence_days__lte=365), name="playbook_cadence_range"
            ),
        ]

    def __str__(self) -> str:
        return str(self.get_relationship_type_display())

    def text(self, name: str, language: str | None) -> str:
        """``summary``/``actions``/``checks`` in the given language (English only for ``en``)."""
        suffix = "en" if (language or "").startswith("en") else "zh"
        return str(getattr(self, f"{name}_{suffix}"))

    def lines(self, name: str, language: str | None) -> list[str]:
        return [line.strip() for line in self.text(name, language).splitlines() if line.strip()]
