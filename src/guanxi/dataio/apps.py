from django.apps import AppConfig


class DataioConfig(AppConfig):
    name = "guanxi.dataio"
    label = "dataio"
    verbose_name = "Data in and out"
