"""Forms of the value pages; validation beyond field types lives in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.value.choices import Tier, ValueClass
from guanxi.value.models import ServicePolicy, TierRule, ValueConfig
from guanxi.value.services import CONFIG_FIELDS, POLICY_FIELDS


class ConfigForm(forms.ModelForm[ValueConfig]):
    class Meta:
        model = ValueConfig
        fields = CONFIG_FIELDS


class TierRuleForm(forms.ModelForm[TierRule]):
    class Meta:
        model = TierRule
        fields = ["position", "tier", "classes", "min_score", "lifecycles"]

    def _post_clean(self) -> None:
        """Model constraint checks are the service's job (bilingual messages, one write path)."""


class PolicyForm(forms.ModelForm[ServicePolicy]):
    class Meta:
        model = ServicePolicy
        fields = POLICY_FIELDS

    def validate_unique(self) -> None:
        """The service reports a duplicate scope in both languages."""

    def _post_clean(self) -> None:
        """Model constraint checks are the service's job (bilingual messages, one write path)."""


class OverrideForm(forms.Form):
    value_class = forms.ChoiceField(
        label=_("人工分级"), choices=[("", _("（取消人工分级）")), *ValueClass.choices], required=False
    )
    reason = forms.CharField(label=_("调整原因"), max_length=300, required=False)


class MovementFilter(forms.Form):
    run = forms.IntegerField(required=False, min_value=1)
    direction = forms.ChoiceField(choices=[("", ""), ("up", "up"), ("down", "down")], required=False)
    mine = forms.BooleanField(required=False)


class StructureFilter(forms.Form):
    dimension = forms.ChoiceField(
        choices=[
            ("province", "province"),
            ("industry", "industry"),
            ("size", "size"),
            ("relationship_type", "relationship_type"),
        ],
        required=False,
    )


def tier_choices() -> list[tuple[str, Any]]:
    return [("", _("任意")), *Tier.choices]
