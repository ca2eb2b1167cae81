from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "guanxi.pipeline"
    label = "pipeline"
    verbose_name = "Pipeline 商机"

    def ready(self) -> None:
        from types import SimpleNamespace

        from django.utils.translation import gettext_lazy as _

        from guanxi.audit.models import ACTION_LABELS
        from guanxi.audit.selectors import register_extra_field

        # The opportunity's events are on the customer timeline: their labels live with the package.
        ACTION_LABELS.update(
            {
                "opportunity.create": _("新建了商机"),
                "opportunity.update": _("修改了商机"),
                "opportunity.stage": _("推进了商机阶段"),
                "opportunity.won": _("赢得了商机"),
                "opportunity.lost": _("输掉了商机"),
                "opportunity.reopen": _("重新打开了商机"),
                "opportunity.people": _("更新了商机的决策人"),
                "pipeline.create": _("新建了销售流程"),
                "pipeline.update": _("修改了销售流程"),
                "stage.create": _("新建了销售阶段"),
                "stage.update": _("修改了销售阶段"),
            }
        )
        register_extra_field(
            "opportunity", "lines", SimpleNamespace(verbose_name=_("产品明细"), flatchoices=[])
        )
        register_extra_field(
            "opportunity", "people", SimpleNamespace(verbose_name=_("决策人"), flatchoices=[])
        )
