from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Contact, Customer
from guanxi.engagement.models import Channel, Direction


class InteractionForm(forms.Form):
    channel = forms.ChoiceField(label=_("渠道"), choices=Channel.choices, initial=Channel.VISIT)
    direction = forms.ChoiceField(label=_("方向"), choices=Direction.choices, initial=Direction.OUTBOUND)
    occurred_at = forms.DateTimeField(
        label=_("时间"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    summary = forms.CharField(label=_("内容摘要"), max_length=20000, widget=forms.Textarea(attrs={"rows": 3}))
    outcome = forms.CharField(label=_("结果"), required=False, max_length=20000)
    next_step = forms.CharField(label=_("下一步"), required=False, max_length=20000)
    next_step_due = forms.DateField(
        label=_("下一步日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    contacts = forms.ModelMultipleChoiceField(
        label=_("联系人"),
        queryset=Contact.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self, *args: Any, customer: Customer, contacts: list[Contact] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = cast("forms.ModelMultipleChoiceField[Contact]", self.fields["contacts"])
        field.queryset = Contact.objects.filter(customer=customer).order_by("sort_key")
        if contacts is not None:
            # The page has the customer's contacts already: render the boxes from them (no query);
            # a submitted choice is still validated against the queryset.
            field.choices = [(c.pk, c.name) for c in contacts]
            self.has_contacts = bool(contacts)
        else:
            self.has_contacts = field.queryset.exists()

    def clean_summary(self) -> str:
        value = (self.cleaned_data.get("summary") or "").strip()
        if not value:
            raise forms.ValidationError(_("请填写内容摘要"))
        return value

    def service_data(self) -> dict[str, Any]:
        data = {
            k: self.cleaned_data[k]
            for k in ("channel", "direction", "summary", "outcome", "next_step", "next_step_due")
        }
        when = self.cleaned_data.get("occurred_at")
        if when is not None:
            data["occurred_at"] = when if timezone.is_aware(when) else timezone.make_aware(when)
        return data
