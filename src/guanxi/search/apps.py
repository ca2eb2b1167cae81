from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "guanxi.search"
    label = "search"
