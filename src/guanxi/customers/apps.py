from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "guanxi.customers"
    label = "customers"
