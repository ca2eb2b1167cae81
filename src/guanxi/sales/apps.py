from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "guanxi.sales"
    label = "sales"
