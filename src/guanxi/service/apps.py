from django.apps import AppConfig


class ServiceConfig(AppConfig):
    name = "guanxi.service"
    label = "service"
    verbose_name = "Service 服务"

    def ready(self) -> None:
        from guanxi.audit.models import ACTION_LABELS
        from guanxi.audit.selectors import GUANXI_APPS
        from guanxi.service.models import SERVICE_ACTION_LABELS

        # Complaint, promise, objection and survey steps show on the customer timeline with a label.
        ACTION_LABELS.update(SERVICE_ACTION_LABELS)
        GUANXI_APPS.add("service")
