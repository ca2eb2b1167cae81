"""HTML forms of the pipeline pages. They check shape; the services check the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.pipeline.models import ForecastCategory, LostReason, OpportunitySource, PeriodKind
from guanxi.relations.models import DecisionRoleKind, Stance

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
PERIODS = [
    ("", _("全部")),
    ("this_month", _("本月")),
    ("next_month", _("下月")),
    ("this_quarter", _("本季度")),
    ("next_quarter", _("下季度")),
    ("overdue", _("已过预计成交日")),
]


class FilterForm(forms.Form):
    """The board's and the list's filters (GET)."""

    pipeline = forms.TypedChoiceField(label=_("销售流程"), required=False, coerce=int, empty_value=None)
    owner = forms.TypedChoiceField(label=_("负责人"), required=False, coerce=int, empty_value=None)
    team = forms.TypedChoiceField(label=_("团队"), required=False, coerce=int, empty_value=None)
    source = forms.ChoiceField(
        label=_("来源"), required=False, choices=[("", _("全部来源")), *OpportunitySource.choices]
    )
    period = forms.ChoiceField(label=_("成交期间"), required=False, choices=PERIODS)
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)

    def __init__(
        self,
        *args: Any,
        pipelines: list[tuple[int, str]],
        owners: list[tuple[int, str]],
        teams: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pipeline"].choices = pipelines  # type: ignore[attr-defined]
        self.fields["owner"].choices = [("", _("全部负责人")), *owners]  # type: ignore[attr-defined]
        self.fields["team"].choices = [("", _("全部团队")), *teams]  # type: ignore[attr-defined]


class OpportunityForm(forms.Form):
    name = forms.CharField(label=_("商机名称"), max_length=200)
    pipeline = forms.TypedChoiceField(label=_("销售流程"), coerce=int, required=False, empty_value=None)
    stage = forms.TypedChoiceField(label=_("阶段"), coerce=int, required=False, empty_value=None)
    expected_close_on = forms.DateField(label=_("预计成交日期"), widget=DATE)
    amount = forms.DecimalField(
        label=_("金额"),
        required=False,
        max_digits=14,
        decimal_places=2,
        help_text=_("有产品明细时由明细计算"),
    )
    probability = forms.IntegerField(label=_("赢率(%)"), required=False, help_text=_("留空则用阶段默认值"))
    forecast_category = forms.ChoiceField(
        label=_("预测类别"), required=False, choices=[("", _("阶段默认")), *ForecastCategory.choices]
    )
    owner = forms.TypedChoiceField(label=_("负责人"), coerce=int, required=False, empty_value=None)
    deal_source = forms.ChoiceField(
        label=_("来源"), required=False, choices=[("", "—"), *OpportunitySource.choices]
    )
    referral = forms.TypedChoiceField(label=_("转介绍"), coerce=int, required=False, empty_value=None)
    competitors = forms.CharField(label=_("竞争对手"), required=False, max_length=200)
    next_step = forms.CharField(label=_("下一步"), required=False, max_length=200)
    next_step_on = forms.DateField(label=_("下一步日期"), required=False, widget=DATE)
    description = forms.CharField(
        label=_("说明"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        pipelines: list[tuple[int, str]],
        stages: list[tuple[int, str]],
        owners: list[tuple[int, str]],
        referrals: list[tuple[int, str]],
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pipeline"].choices = pipelines  # type: ignore[attr-defined]
        self.fields["stage"].choices = [("", _("第一个阶段")), *stages]  # type: ignore[attr-defined]
        self.fields["owner"].choices = owners  # type: ignore[attr-defined]
        self.fields["referral"].choices = [("", "—"), *referrals]  # type: ignore[attr-defined]
        if editing:
            del self.fields["pipeline"]
            self.fields["stage"].choices = stages  # type: ignore[attr-defined]


class LineForm(forms.Form):
    product = forms.TypedChoiceField(label=_("产品"), coerce=int, required=False, empty_value=None)
    quantity = forms.DecimalField(label=_("数量"), required=False, max_digits=12, decimal_places=2)
    unit_price = forms.DecimalField(label=_("单价"), required=False, max_digits=12, decimal_places=2)

    def __init__(self, *args: Any, products: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [("", "—"), *products]  # type: ignore[attr-defined]


LineFormSet = forms.formset_factory(LineForm, extra=3, max_num=100)


class MoveForm(forms.Form):
    stage = forms.IntegerField()
    version = forms.IntegerField()


class WinForm(forms.Form):
    order = forms.TypedChoiceField(label=_("关联已有订单"), coerce=int, required=False, empty_value=None)
    create_order = forms.BooleanField(label=_("由产品明细生成订单"), required=False)
    closed_on = forms.DateField(label=_("成交日期"), required=False, widget=DATE)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, orders: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["order"].choices = [("", "—"), *orders]  # type: ignore[attr-defined]


class LoseForm(forms.Form):
    reason = forms.ChoiceField(label=_("输单原因"), choices=LostReason.choices)
    lost_to = forms.CharField(label=_("输给（竞争对手）"), required=False, max_length=100)
    note = forms.CharField(
        label=_("说明"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    closed_on = forms.DateField(label=_("关闭日期"), required=False, widget=DATE)
    objection = forms.TypedChoiceField(
        label=_("真正的输单原因是哪条异议？"),
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.RadioSelect,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, objections: list[tuple[int, str]], **kwargs: Any) -> None:
        """``objections``: the objections raised in this sale, to mark the one that lost it."""
        super().__init__(*args, **kwargs)
        if objections:
            self.fields["objection"].choices = [("", _("都不是")), *objections]  # type: ignore[attr-defined]
        else:
            del self.fields["objection"]


class ReopenForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class PersonForm(forms.Form):
    contact = forms.TypedChoiceField(label=_("联系人"), coerce=int)
    role = forms.ChoiceField(
        label=_("决策角色"), required=False, choices=[("", _("按决策链")), *DecisionRoleKind.choices]
    )
    stance = forms.ChoiceField(
        label=_("立场"), required=False, choices=[("", _("按决策链")), *Stance.choices]
    )
    engaged = forms.BooleanField(label=_("已接触"), required=False)
    note = forms.CharField(label=_("备注"), required=False, max_length=200)

    def __init__(self, *args: Any, contacts: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = contacts  # type: ignore[attr-defined]


class ForecastForm(forms.Form):
    kind = forms.ChoiceField(label=_("期间"), required=False, choices=PeriodKind.choices)
    group = forms.ChoiceField(
        label=_("分组"), required=False, choices=[("owner", _("按销售")), ("team", _("按团队"))]
    )
    pipeline = forms.TypedChoiceField(label=_("销售流程"), required=False, coerce=int, empty_value=None)
    team = forms.TypedChoiceField(label=_("团队"), required=False, coerce=int, empty_value=None)

    def __init__(
        self, *args: Any, pipelines: list[tuple[int, str]], teams: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pipeline"].choices = [("", _("全部流程")), *pipelines]  # type: ignore[attr-defined]
        self.fields["team"].choices = [("", _("全部团队")), *teams]  # type: ignore[attr-defined]


class PipelineForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=60)
    name_en = forms.CharField(label=_("英文名称"), required=False, max_length=60)
    is_default = forms.BooleanField(label=_("默认"), required=False)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)


class StageForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=40)
    name_en = forms.CharField(label=_("英文名称"), required=False, max_length=40)
    probability = forms.IntegerField(label=_("默认赢率(%)"), min_value=0, max_value=100)
    forecast_category = forms.ChoiceField(label=_("默认预测类别"), choices=ForecastCategory.choices)
    position = forms.IntegerField(label=_("排序"), required=False, min_value=0, max_value=1000)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)
