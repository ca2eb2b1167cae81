from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "guanxi.bench"
    label = "bench"
    verbose_name = "Benchmarks / 性能基准"
