from django.apps import AppConfig


class ValueConfig(AppConfig):
    name = "guanxi.value"
    label = "value"
    verbose_name = "Customer value 客户价值"
