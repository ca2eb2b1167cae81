"""HTML forms of the follow-up pages. They validate shape; the services validate the rules."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Contact, Customer
from guanxi.followup.models import (
    ChangeReason,
    ChecklistTemplate,
    ContactDateKind,
    PlannerProfile,
    StartPoint,
)

# Browsers accept only ISO values in date/time inputs, whatever the language of the page.
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


class TaskForm(forms.Form):
    title = forms.CharField(label=_("任务"), max_length=200)
    due_on = forms.DateField(label=_("截止日期"), widget=DATE)
    notes = forms.CharField(
        label=_("备注"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ContactDateForm(forms.Form):
    kind = forms.ChoiceField(label=_("类别"), choices=ContactDateKind.choices)
    label = forms.CharField(label=_("名称"), max_length=60, required=False)
    date = forms.DateField(label=_("日期"), widget=DATE, help_text=_("农历日期也按“年-月-日”填写"))
    is_lunar = forms.BooleanField(label=_("农历"), required=False)
    lunar_leap_month = forms.BooleanField(label=_("闰月"), required=False)


class SnoozeForm(forms.Form):
    until = forms.DateField(label=_("推迟到"), widget=DATE)


class AppointmentForm(forms.Form):
    title = forms.CharField(label=_("主题"), max_length=200)
    starts_at = forms.DateTimeField(label=_("开始时间"), widget=DATETIME)
    ends_at = forms.DateTimeField(label=_("结束时间"), widget=DATETIME)
    place = forms.CharField(label=_("地点"), required=False, max_length=255)
    notes = forms.CharField(
        label=_("备注"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    contacts = forms.ModelMultipleChoiceField(
        label=_("参加的联系人"),
        queryset=Contact.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(
            "forms.ModelMultipleChoiceField[Contact]", self.fields["contacts"]
        ).queryset = Contact.objects.filter(customer=customer).order_by("-is_key", "sort_key")

    def clean_starts_at(self) -> dt.datetime | None:
        return _aware(self.cleaned_data.get("starts_at"))

    def clean_ends_at(self) -> dt.datetime | None:
        return _aware(self.cleaned_data.get("ends_at"))


class RescheduleForm(forms.Form):
    starts_at = forms.DateTimeField(label=_("新的开始时间"), widget=DATETIME)
    ends_at = forms.DateTimeField(label=_("新的结束时间"), widget=DATETIME)
    reason_kind = forms.ChoiceField(label=_("原因类别"), choices=ChangeReason.choices)
    reason = forms.CharField(label=_("原因"), max_length=300)

    def clean_starts_at(self) -> dt.datetime | None:
        return _aware(self.cleaned_data.get("starts_at"))

    def clean_ends_at(self) -> dt.datetime | None:
        return _aware(self.cleaned_data.get("ends_at"))


class CancelForm(forms.Form):
    reason_kind = forms.ChoiceField(label=_("原因类别"), choices=ChangeReason.choices)
    reason = forms.CharField(label=_("原因"), max_length=300)


class PlannerForm(forms.ModelForm[PlannerProfile]):
    class Meta:
        model = PlannerProfile
        fields = [
            "office_address",
            "office_latitude",
            "office_longitude",
            "home_address",
            "home_latitude",
            "home_longitude",
            "day_starts",
            "available_minutes",
            "visit_minutes",
        ]
        widgets = {"day_starts": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}


class PlanForm(forms.Form):
    day = forms.DateField(label=_("日期"), widget=DATE)
    start_point = forms.ChoiceField(label=_("出发地"), choices=StartPoint.choices)
    available_minutes = forms.IntegerField(
        label=_("可用时间(分钟)"), min_value=30, max_value=960, required=False
    )
    start_time = forms.TimeField(
        label=_("出发时间"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )


class PrepForm(forms.Form):
    key_points = forms.CharField(
        label=_("要点"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )
    qa = forms.CharField(
        label=_("预计问题与回答"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("每个问题一行“问：…”，下一行“答：…”"),
    )
    extra_items = forms.CharField(
        label=_("添加清单项"), required=False, max_length=2000, help_text=_("每行一项")
    )
    template = forms.ModelChoiceField(
        label=_("换用清单模板"), queryset=ChecklistTemplate.objects.all(), required=False
    )

    def clean_qa(self) -> list[dict[str, str]]:
        items: list[dict[str, str]] = []
        for raw in (self.cleaned_data.get("qa") or "").splitlines():
            line = raw.strip()
            if not line:
                continue
            head = line[:2].lower()
            if line.startswith(("问：", "问:")) or head in ("q:", "q："):
                items.append({"q": line[2:].strip(), "a": ""})
            elif (line.startswith(("答：", "答:")) or head in ("a:", "a：")) and items:
                items[-1]["a"] = (items[-1]["a"] + "\n" + line[2:].strip()).strip()
            elif items:
                items[-1]["a"] = (items[-1]["a"] + "\n" + line).strip()
            else:
                items.append({"q": line, "a": ""})
        return items


def qa_text(qa: list[dict[str, str]]) -> str:
    return "\n".join(f"问：{x.get('q', '')}\n答：{x.get('a', '')}" for x in qa)
