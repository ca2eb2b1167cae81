"""Customers (客户), their contacts (联系人), tags and explicit shares."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.core.labels import choice_label
from guanxi.value.choices import Lifecycle, RfmSegment, Tier, ValueClass


class CustomerKind(models.TextChoices):
    COMPANY = "company", _("企业")
    PERSON = "person", _("个人")


class RelationshipType(models.TextChoices):
    """The four kinds of relationship (DOMAIN §2), each maintained differently."""

    UPSTREAM = "upstream", _("上游客户")
    PARTNER = "partner", _("协作客户")
    CHANNEL = "channel", _("渠道客户")
    END = "end", _("终端客户")


class CustomerStatus(models.TextChoices):
    PROSPECT = "prospect", _("潜在")
    ACTIVE = "active", _("合作中")
    DORMANT = "dormant", _("休眠")
    LOST = "lost", _("流失")
    ARCHIVED = "archived", _("已归档")


class CompanySize(models.TextChoices):
    MICRO = "micro", _("微型 (<10人)")
    SMALL = "small", _("小型 (10-99人)")
    MEDIUM = "medium", _("中型 (100-999人)")
    LARGE = "large", _("大型 (1000人以上)")


class CreditRating(models.TextChoices):
    AAA = "AAA", "AAA"
    AA = "AA", "AA"
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"


class CustomerSource(models.TextChoices):
    REFERRAL = "referral", _("转介绍")
    EXHIBITION = "exhibition", _("展会")
    COLD_CALL = "cold_call", _("陌生拜访")
    WEBSITE = "website", _("网站")
    ADVERTISING = "advertising", _("广告")
    PARTNER = "partner", _("合作伙伴")
    OTHER = "other", _("其他")


class PersonalityType(models.TextChoices):
    """Customer personalities (客户类型) a salesperson recognises, each approached differently."""

    CALM_RATIONAL = "calm_rational", _("冷静理智型")
    WARM_OUTGOING = "warm_outgoing", _("热情外向型")
    CAUTIOUS = "cautious", _("谨慎保守型")
    DECISIVE = "decisive", _("果断决策型")
    HESITANT = "hesitant", _("犹豫不决型")
    RELATIONSHIP = "relationship", _("关系导向型")
    TECHNICAL = "technical", _("专业技术型")
    FACE_CONSCIOUS = "face_conscious", _("爱面子型")
    THRIFTY = "thrifty", _("精打细算型")


class PreferredChannel(models.TextChoices):
    """How a contact likes to be reached; the codes are those of engagement's interaction channels."""

    PHONE = "phone", _("电话")
    WECHAT = "wechat", _("微信/即时通讯")
    EMAIL = "email", _("邮件")
    VISIT = "visit", _("拜访")
    SMS = "sms", _("短信")
    VIDEO = "video", _("视频")


class Tag(models.Model):
    name = models.CharField(_("标签"), max_length=40, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """Customer (客户): a company or a single person, with its profile (客户档案)."""

    kind = models.CharField(
        _("类型"), max_length=10, choices=CustomerKind.choices, default=CustomerKind.COMPANY
    )
    name = models.CharField(_("客户名称"), max_length=200)
    short_name = models.CharField(_("简称"), max_length=60, blank=True)
    business_scope = models.TextField(_("经营范围"), blank=True)
    industry = models.CharField(_("行业"), max_length=60, blank=True, db_index=True)
    province = models.CharField(_("省"), max_length=30, blank=True)
    city = models.CharField(_("市"), max_length=30, blank=True)
    district = models.CharField(_("区"), max_length=30, blank=True)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    size = models.CharField(_("规模"), max_length=10, choices=CompanySize.choices, blank=True)
    phone = models.CharField(_("电话"), max_length=40, blank=True)
    email = models.EmailField(_("邮箱"), blank=True)
    website = models.CharField(_("网站"), max_length=200, blank=True)
    financial_notes = models.TextField(_("财务状况"), blank=True)
    credit_rating = models.CharField(_("信用等级"), max_length=3, choices=CreditRating.choices, blank=True)
    lead_source = models.CharField(_("来源"), max_length=20, choices=CustomerSource.choices, blank=True)
    relationship_type = models.CharField(
        _("关系类型"), max_length=10, choices=RelationshipType.choices, default=RelationshipType.END
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=CustomerStatus.choices, default=CustomerStatus.PROSPECT
    )
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    # Knowledge of a customer goes stale (DOMAIN §1): the owner confirms the profile now and then.
    profile_reviewed_on = models.DateField(_("档案复核日期"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_customers",
        verbose_name=_("负责人"),
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
        verbose_name=_("团队"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("标签"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Maintained on every write by the engagement and sales services (never aggregated on the fly:
    # at 1M customers an on-the-fly MAX() costs ~100 ms per list page).
    last_interaction_at = models.DateTimeField(_("最近联系"), null=True, blank=True)
    last_order_at = models.DateField(_("最近下单"), null=True, blank=True)
    # Contact cadence override (联系频率, "every N days"); empty = the policy's default for the
    # customer (guanxi.followup.cadence). Last contact is ``last_interaction_at``, any channel.
    cadence_days = models.PositiveSmallIntegerField(_("联系频率(天)"), null=True, blank=True)
    order_count = models.PositiveIntegerField(default=0)
    revenue_total = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    # The current customer-value result (DOMAIN §3), written set-based by guanxi.value.engine on
    # each re-evaluation so lists, filters and service policies read them without a join. None of
    # these columns is indexed, on purpose: on PostgreSQL the monthly UPDATE of every customer is
    # then a HOT update (migration 0006) that leaves the indexes — above all the search GIN — alone.
    value_class = models.CharField(_("价值分级"), max_length=1, choices=ValueClass.choices, blank=True)
    tier = models.CharField(_("客户层级"), max_length=10, choices=Tier.choices, blank=True)
    lifecycle = models.CharField(_("生命周期"), max_length=15, choices=Lifecycle.choices, blank=True)
    rfm_segment = models.CharField(_("RFM 分群"), max_length=12, choices=RfmSegment.choices, blank=True)
    # A manual class (人工调整) wins over the computed one until cleared; the reason is shown with it.
    value_class_override = models.CharField(
        _("人工分级"), max_length=1, choices=ValueClass.choices, blank=True
    )
    value_override_reason = models.CharField(_("调整原因"), max_length=300, blank=True)

    # Search document (CJK unigrams/bigrams, pinyin, initials, digits) and pinyin sort key,
    # both computed in Python by guanxi.search.documents.
    search_doc = models.TextField(blank=True, default="")
    search_scope = models.CharField(max_length=40, blank=True, default="")  # documents.scope
    sort_key = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["owner", "last_interaction_at", "id"], name="cust_owner_lastint"),
            models.Index(fields=["team", "last_interaction_at", "id"], name="cust_team_lastint"),
            models.Index(fields=["last_interaction_at", "id"], name="cust_lastint"),
            models.Index(fields=["owner", "sort_key", "id"], name="cust_owner_sort"),
            models.Index(fields=["sort_key", "id"], name="cust_sort"),
            models.Index(fields=["province", "city"], name="cust_region"),
            models.Index(fields=["owner", "profile_reviewed_on"], name="cust_owner_reviewed"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True) | models.Q(latitude__gte=-90, latitude__lte=90),
                name="customer_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(cadence_days__isnull=True)
                | models.Q(cadence_days__gte=1, cadence_days__lte=730),
                name="customer_cadence_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True)
                | models.Q(longitude__gte=-180, longitude__lte=180),
                name="customer_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def region(self) -> str:
        return " ".join(p for p in (self.province, self.city, self.district) if p)

    @property
    def relationship_type_label(self) -> str:
        return choice_label(RelationshipType, self.relationship_type)

    @property
    def status_label(self) -> str:
        return choice_label(CustomerStatus, self.status)

    @property
    def tier_label(self) -> str:
        return choice_label(Tier, self.tier) if self.tier else ""

    @property
    def lifecycle_label(self) -> str:
        return choice_label(Lifecycle, self.lifecycle) if self.lifecycle else ""


class CustomerShare(models.Model):
    """An explicit share of a customer with a user or a whole team (共享)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="customer_shares",
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="customer_shares"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(user__isnull=False, team__isnull=True)
                    | models.Q(user__isnull=True, team__isnull=False)
                ),
                name="share_user_xor_team",
            ),
            models.UniqueConstraint(fields=["customer", "user"], name="share_unique_user"),
            models.UniqueConstraint(fields=["customer", "team"], name="share_unique_team"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.user_id or self.team_id}"


class Gender(models.TextChoices):
    MALE = "m", _("男")
    FEMALE = "f", _("女")


class Contact(models.Model):
    """Contact (联系人): a person at a customer — buyer, user, evaluator or decision maker."""

    # contact_customer_sort begins with it: no index of its own (migration 0012).
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts", db_index=False)
    name = models.CharField(_("姓名"), max_length=100)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, blank=True)
    title = models.CharField(_("职务"), max_length=100, blank=True)
    department = models.CharField(_("部门"), max_length=100, blank=True)
    wechat_id = models.CharField(_("微信"), max_length=60, blank=True, db_index=True)
    birthday = models.DateField(_("生日"), null=True, blank=True)
    # When true, ``birthday`` holds the lunar year/month/day (农历) and is converted each year.
    birthday_is_lunar = models.BooleanField(_("农历生日"), default=False)
    birthday_lunar_leap_month = models.BooleanField(_("闰月"), default=False)
    background = models.TextField(_("个人背景"), blank=True)
    hobbies = models.TextField(_("兴趣爱好"), blank=True)
    preferences = models.TextField(_("偏好"), blank=True)
    personality = models.CharField(_("性格类型"), max_length=40, choices=PersonalityType.choices, blank=True)
    communication_style = models.CharField(_("沟通风格"), max_length=200, blank=True)
    preferred_channel = models.CharField(
        _("偏好渠道"), max_length=10, choices=PreferredChannel.choices, blank=True
    )
    home_location = models.CharField(_("居住地"), max_length=200, blank=True)
    work_location = models.CharField(_("工作地点"), max_length=200, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    is_key = models.BooleanField(_("关键联系人"), default=False)
    language = models.CharField(
        _("语言"), max_length=10, choices=[("zh-hans", "简体中文"), ("en", "English")], default="zh-hans"
    )
    cadence_days = models.PositiveSmallIntegerField(_("联系频率(天)"), null=True, blank=True)
    # Maintained by the engagement services like Customer.last_interaction_at: the latest interaction
    # this contact took part in (the key-contact cadence reads it without aggregating).
    last_interaction_at = models.DateTimeField(_("最近联系"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    search_doc = models.TextField(blank=True, default="")
    search_scope = models.CharField(max_length=40, blank=True, default="")  # documents.scope
    sort_key = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["customer", "sort_key", "id"], name="contact_customer_sort")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cadence_days__isnull=True)
                | models.Q(cadence_days__gte=1, cadence_days__lte=730),
                name="contact_cadence_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ContactPointKind(models.TextChoices):
    PHONE = "phone", _("电话")
    EMAIL = "email", _("邮箱")


class ContactPoint(models.Model):
    """A phone number or e-mail of a contact; raw text kept, normalised value indexed for matching."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="points")
    kind = models.CharField(max_length=10, choices=ContactPointKind.choices)
    raw = models.CharField(max_length=120)
    value = models.CharField(max_length=120, db_index=True)  # E.164 for phones, lower-case for e-mail
    label = models.CharField(max_length=20, blank=True)  # mobile, landline, service (400/800), work, home
    is_ambiguous = models.BooleanField(default=False)  # valid in several regions / could not be parsed
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.raw
