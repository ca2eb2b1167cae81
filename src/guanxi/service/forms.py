"""HTML forms of the service pages. They validate shape; the services validate the rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.models import User
from guanxi.customers.models import Contact, Customer
from guanxi.engagement.models import Channel
from guanxi.pipeline.models import Opportunity
from guanxi.pipeline.selectors import opportunity_queryset_for_user
from guanxi.service.models import (
    ComplaintCategory,
    InvitationChannel,
    Judgement,
    ObjectionCategory,
    ObjectionOutcome,
    Satisfaction,
    Severity,
    SurveyTemplate,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _text(label: Any, *, required: bool = False, rows: int = 3, max_length: int = 5000) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, max_length=max_length, widget=forms.Textarea(attrs={"rows": rows})
    )


class ContactField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=Contact.objects.none(), required=False, label=_("联系人"), **kwargs)


def _limit_contacts(form: forms.Form, customer: Customer | None) -> None:
    field = form.fields["contact"]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = (
        customer.contacts.order_by("-is_key", "sort_key", "id") if customer else Contact.objects.none()
    )


class OpportunityField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A deal of the customer, among those the user may see (the pipeline's visibility rule)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            queryset=Opportunity.objects.none(), required=False, label=_("商机"), empty_label="—", **kwargs
        )

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} · {obj.get_status_display()} · {obj.expected_close_on:%Y-%m-%d}"


def _limit_opportunities(form: forms.Form, user: User | None, customer: Customer | None) -> None:
    field = form.fields["opportunity"]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = (
        opportunity_queryset_for_user(user)
        .filter(customer=customer)
        .only("id", "name", "status", "expected_close_on", "customer_id")
        .order_by("status", "-expected_close_on", "-id")
        if customer is not None and user is not None
        else Opportunity.objects.none()
    )


class ComplaintForm(forms.Form):
    summary = forms.CharField(label=_("事由"), max_length=200)
    category = forms.ChoiceField(label=_("类别"), choices=ComplaintCategory.choices)
    severity = forms.ChoiceField(label=_("严重程度"), choices=Severity.choices, initial=Severity.MEDIUM)
    channel = forms.ChoiceField(label=_("渠道"), choices=Channel.choices, initial=Channel.PHONE)
    contact = ContactField()
    received_at = forms.DateTimeField(
        label=_("收到时间"), required=False, widget=DATETIME, help_text=_("留空 = 现在")
    )
    customer_words = _text(_("客户原话"), rows=3)
    listening_notes = _text(_("倾听记录"), rows=3)
    customer_wants = _text(_("客户诉求"), rows=2)
    beyond_authority = forms.BooleanField(label=_("超出我的权限，立即升级给经理"), required=False)

    def __init__(
        self, *args: Any, customer: Customer | None = None, edit: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _limit_contacts(self, customer)
        if edit:
            del self.fields["received_at"]
            del self.fields["beyond_authority"]

    def clean_received_at(self) -> dt.datetime | None:
        value = self.cleaned_data.get("received_at")
        if value is not None and timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value  # type: ignore[no-any-return]


class NoteForm(forms.Form):
    note = _text(_("说明"), rows=2)


class RequiredNoteForm(forms.Form):
    note = _text(_("说明"), required=True, rows=2)


class ResolveForm(forms.Form):
    resolution = _text(_("处理结果"), required=True, rows=3)


class ReopenForm(forms.Form):
    reason = _text(_("重新打开的原因"), required=True, rows=2)


class SatisfactionForm(forms.Form):
    satisfaction = forms.ChoiceField(label=_("满意度"), choices=Satisfaction.choices)
    note = _text(_("说明"), rows=2)


class PromiseForm(forms.Form):
    what = forms.CharField(label=_("承诺内容"), max_length=300)
    due_on = forms.DateField(label=_("兑现期限"), widget=DATE)
    contact = ContactField()
    opportunity = OpportunityField()
    details = _text(_("说明"), rows=2)

    def __init__(
        self, *args: Any, customer: Customer | None = None, user: User | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _limit_contacts(self, customer)
        _limit_opportunities(self, user, customer)


class PromiseCloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("结果"),
        choices=[("kept", _("已兑现")), ("broken", _("未兑现")), ("withdrawn", _("撤回"))],
    )
    kept_on = forms.DateField(label=_("兑现日期"), required=False, widget=DATE, help_text=_("留空 = 今天"))
    reason = _text(_("原因（未兑现或撤回时必填）"), rows=2, max_length=2000)


class ObjectionForm(forms.Form):
    category = forms.ChoiceField(label=_("类别"), choices=ObjectionCategory.choices)
    customer_words = _text(_("客户原话"), required=True, rows=2, max_length=2000)
    judgement = forms.ChoiceField(label=_("判断"), choices=Judgement.choices, initial=Judgement.UNSURE)
    contact = ContactField()
    opportunity = OpportunityField()
    direct_questions = _text(_("直接询问"), rows=2, max_length=2000)
    indirect_questions = _text(_("间接询问"), rows=2, max_length=2000)
    real_reason = _text(_("真实原因"), rows=2, max_length=2000)
    real_category = forms.ChoiceField(
        label=_("真实原因类别"), choices=[("", "—"), *ObjectionCategory.choices], required=False
    )
    response = _text(_("应对"), rows=3)
    outcome = forms.ChoiceField(
        label=_("结果"), choices=ObjectionOutcome.choices, initial=ObjectionOutcome.PENDING
    )
    raised_on = forms.DateField(label=_("提出日期"), required=False, widget=DATE)

    def __init__(
        self, *args: Any, customer: Customer | None = None, user: User | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _limit_contacts(self, customer)
        _limit_opportunities(self, user, customer)


class SurveyInviteForm(forms.Form):
    template = forms.ModelChoiceField(
        label=_("问卷"), queryset=SurveyTemplate.objects.filter(active=True), required=False
    )
    channel = forms.ChoiceField(
        label=_("方式"), choices=InvitationChannel.choices, initial=InvitationChannel.LINK
    )
    contact = ContactField()
    to_address = forms.EmailField(
        label=_("收件邮箱"), required=False, help_text=_("留空 = 联系人或客户的邮箱")
    )
    valid_days = forms.IntegerField(label=_("有效天数"), min_value=1, max_value=180, initial=30)

    def __init__(self, *args: Any, customer: Customer | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit_contacts(self, customer)


class AbsenceForm(forms.Form):
    starts_on = forms.DateField(label=_("开始"), widget=DATE)
    ends_on = forms.DateField(label=_("结束"), widget=DATE)
    note = forms.CharField(label=_("备注"), max_length=200, required=False)
