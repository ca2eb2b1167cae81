from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class CustomersConfig(AppConfig):
    name = "guanxi.customers"
    label = "customers"

    def ready(self) -> None:
        from guanxi.customers.models import CustomerShare
        from guanxi.customers.services import share_changed

        # A share's search key follows the shares table however a share is written (the services,
        # a cascade when a user or team is deleted, the admin shell).
        post_save.connect(share_changed, sender=CustomerShare, dispatch_uid="guanxi.customers.share_saved")
        post_delete.connect(
            share_changed, sender=CustomerShare, dispatch_uid="guanxi.customers.share_deleted"
        )
