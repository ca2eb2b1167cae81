from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "guanxi.followup"
    label = "followup"
    verbose_name = "Follow-up 跟进"
