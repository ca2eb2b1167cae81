"""HTML forms of the relations pages. They check shape; the services check the rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Contact
from guanxi.relations.models import Basis, DecisionRoleKind, LinkKind, Playbook, Stance, Warmth


class DecisionForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("决策角色"),
        choices=DecisionRoleKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "checkbox-list"}),
    )
    stance = forms.ChoiceField(label=_("立场"), choices=Stance.choices)
    warmth = forms.TypedChoiceField(label=_("关系温度"), choices=Warmth.choices, coerce=int)


class LinkForm(forms.Form):
    from_contact = forms.TypedChoiceField(label=_("从"), coerce=int)
    kind = forms.ChoiceField(label=_("关系"), choices=LinkKind.choices)
    to_contact = forms.TypedChoiceField(label=_("到"), coerce=int)
    strength = forms.TypedChoiceField(
        label=_("强度"), choices=[(i, str(i)) for i in range(1, 6)], coerce=int, initial=3
    )
    note = forms.CharField(label=_("备注"), required=False, max_length=200)

    def __init__(self, *args: Any, contacts: list[Contact], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(c.pk, f"{c.name} {c.title}".strip()) for c in contacts]
        self.fields["from_contact"].choices = choices  # type: ignore[attr-defined]
        self.fields["to_contact"].choices = choices  # type: ignore[attr-defined]


class ReferralForm(forms.Form):
    """The referrer is one of: a search result ("customer:ID" / "contact:ID"), a user ("user:ID"), or
    an outside partner's name."""

    referrer = forms.CharField(label=_("介绍人"), required=False, max_length=40, widget=forms.RadioSelect)
    referrer_user = forms.TypedChoiceField(label=_("或：同事"), required=False, coerce=int, empty_value=None)
    referrer_name = forms.CharField(label=_("或：外部伙伴名称"), required=False, max_length=100)
    contact = forms.TypedChoiceField(label=_("被介绍的联系人"), required=False, coerce=int, empty_value=None)
    referred_on = forms.DateField(
        label=_("介绍日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label=_("备注"), required=False, max_length=500)

    def __init__(
        self,
        *args: Any,
        options: list[tuple[str, str]],
        users: list[tuple[int, str]],
        contacts: list[Contact],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["referrer"].widget.choices = options  # type: ignore[attr-defined]
        self.fields["referrer_user"].choices = [("", "—"), *users]  # type: ignore[attr-defined]
        self.fields["contact"].choices = [("", "—"), *[(c.pk, c.name) for c in contacts]]  # type: ignore[attr-defined]

    def clean_referrer(self) -> tuple[str, int] | None:
        raw = self.cleaned_data.get("referrer") or ""
        if not raw:
            return None
        kind, _sep, number = raw.partition(":")
        if kind not in ("customer", "contact") or not number.isdigit():
            raise forms.ValidationError(_("请选择一个介绍人"))
        return kind, int(number)

    def clean_referred_on(self) -> dt.date:
        return self.cleaned_data.get("referred_on") or timezone.localdate()

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        kwargs: dict[str, Any] = {
            "contact_id": d.get("contact"),
            "referred_on": d["referred_on"],
            "note": d.get("note") or "",
        }
        if d.get("referrer"):
            kind, number = d["referrer"]
            kwargs["referrer_customer_id" if kind == "customer" else "referrer_contact_id"] = number
        if d.get("referrer_user") is not None:
            kwargs["referrer_user_id"] = d["referrer_user"]
        if d.get("referrer_name"):
            kwargs["referrer_name"] = d["referrer_name"]
        return kwargs


class PlaybookForm(forms.ModelForm[Playbook]):
    class Meta:
        model = Playbook
        fields = [
            "basis",
            "cadence_days",
            "summary_zh",
            "summary_en",
            "actions_zh",
            "actions_en",
            "checks_zh",
            "checks_en",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 5})
            for name in ("summary_zh", "summary_en", "actions_zh", "actions_en", "checks_zh", "checks_en")
        }

    basis = forms.ChoiceField(label=_("维系基础"), choices=Basis.choices)
    cadence_days = forms.IntegerField(label=_("建议联系周期(天)"), min_value=1, max_value=365)


class ReviewForm(forms.Form):
    reviewed_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
