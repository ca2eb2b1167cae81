from django.apps import AppConfig


class RelationsConfig(AppConfig):
    name = "guanxi.relations"
    label = "relations"

    def ready(self) -> None:
        from types import SimpleNamespace

        from django.utils.translation import gettext_lazy as _

        from guanxi.audit.selectors import register_extra_field
        from guanxi.relations.models import ContactStanding, DecisionRole

        # The decision chain is audited on the contact, so it shows in the contact's field history.
        register_extra_field("contact", "decision_roles", DecisionRole._meta.get_field("role"))
        register_extra_field("contact", "stance", ContactStanding._meta.get_field("stance"))
        register_extra_field("contact", "warmth", ContactStanding._meta.get_field("warmth"))
        # A link's and a referral's audited ends are names, not model fields.
        register_extra_field("personlink", "from", SimpleNamespace(verbose_name=_("从"), flatchoices=[]))
        register_extra_field("personlink", "to", SimpleNamespace(verbose_name=_("到"), flatchoices=[]))
        register_extra_field(
            "referral", "referrer", SimpleNamespace(verbose_name=_("介绍人"), flatchoices=[])
        )
