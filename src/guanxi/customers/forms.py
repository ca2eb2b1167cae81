"""HTML forms for customers and contacts. They validate shape; the services validate the rules."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.models import User
from guanxi.accounts.selectors import user_list_visible
from guanxi.customers.models import Contact, Customer
from guanxi.customers.services import CONTACT_FIELDS, CUSTOMER_FIELDS


class CustomerForm(forms.ModelForm[Customer]):
    tags = forms.CharField(label=_("标签"), required=False, max_length=600, help_text=_("用逗号分隔"))
    owner = forms.ModelChoiceField(label=_("负责人"), queryset=User.objects.none(), required=False)

    class Meta:
        model = Customer
        fields = CUSTOMER_FIELDS
        widgets = {
            "business_scope": forms.Textarea(attrs={"rows": 2}),
            "financial_notes": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "founded_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[User]", self.fields["owner"]).queryset = User.objects.filter(
            pk__in=[u.pk for u in user_list_visible(user)]
        )
        if self.instance.pk:
            self.fields["owner"].initial = self.instance.owner_id
            self.fields["tags"].initial = ", ".join(t.name for t in self.instance.tags.all())
        if not (user.is_admin or user.is_manager):
            del self.fields["owner"]

    def clean_tags(self) -> list[str]:
        raw = self.cleaned_data.get("tags") or ""
        return [t.strip() for t in raw.replace("，", ",").split(",") if t.strip()]

    def service_data(self) -> dict[str, Any]:
        return {f: self.cleaned_data[f] for f in CUSTOMER_FIELDS if f in self.cleaned_data}


class ContactForm(forms.ModelForm[Contact]):
    phones = forms.CharField(
        label=_("电话"), required=False, max_length=600, help_text=_("多个号码用逗号分隔")
    )
    emails = forms.CharField(label=_("邮箱"), required=False, max_length=600)

    class Meta:
        model = Contact
        fields = CONTACT_FIELDS
        widgets = {
            "birthday": forms.DateInput(attrs={"type": "date"}),
            "background": forms.Textarea(attrs={"rows": 2}),
            "hobbies": forms.Textarea(attrs={"rows": 2}),
            "preferences": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            points = list(self.instance.points.all())
            self.fields["phones"].initial = ", ".join(p.raw for p in points if p.kind == "phone")
            self.fields["emails"].initial = ", ".join(p.raw for p in points if p.kind == "email")

    @staticmethod
    def _split(raw: str) -> list[str]:
        return [t.strip() for t in raw.replace("，", ",").replace(";", ",").split(",") if t.strip()]

    def clean_phones(self) -> list[str]:
        return self._split(self.cleaned_data.get("phones") or "")

    def clean_emails(self) -> list[str]:
        return self._split(self.cleaned_data.get("emails") or "")

    def service_data(self) -> dict[str, Any]:
        return {f: self.cleaned_data[f] for f in CONTACT_FIELDS if f in self.cleaned_data}


class FilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    owner = forms.IntegerField(required=False, min_value=1)
    team = forms.IntegerField(required=False, min_value=1)
    relationship_type = forms.ChoiceField(
        required=False, choices=[("", ""), *list(Customer._meta.get_field("relationship_type").choices or [])]
    )
    status = forms.ChoiceField(
        required=False, choices=[("", ""), *list(Customer._meta.get_field("status").choices or [])]
    )
    province = forms.CharField(required=False, max_length=30)
    city = forms.CharField(required=False, max_length=30)
    size = forms.ChoiceField(
        required=False, choices=[("", ""), *list(Customer._meta.get_field("size").choices or [])]
    )
    value_class = forms.ChoiceField(
        required=False, choices=[("", ""), *list(Customer._meta.get_field("value_class").choices or [])]
    )
    tier = forms.ChoiceField(
        required=False, choices=[("", ""), *list(Customer._meta.get_field("tier").choices or [])]
    )
    lifecycle = forms.ChoiceField(
        required=False, choices=[("", ""), *list(Customer._meta.get_field("lifecycle").choices or [])]
    )
    rfm_segment = forms.ChoiceField(
        required=False, choices=[("", ""), *list(Customer._meta.get_field("rfm_segment").choices or [])]
    )
    industry = forms.CharField(required=False, max_length=60)
    tag = forms.CharField(required=False, max_length=40)
    sort = forms.ChoiceField(
        required=False,
        choices=[("last_interaction", _("最近联系")), ("name", _("名称拼音")), ("created", _("创建时间"))],
    )
    cursor = forms.CharField(required=False, max_length=500)
