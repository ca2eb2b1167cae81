from django.apps import AppConfig


class RelationsConfig(AppConfig):
    name = "guanxi.relations"
    label = "relations"

    def ready(self) -> None:
        from guanxi.audit.selectors import register_extra_field
        from guanxi.relations.models import ContactStanding, DecisionRole

        # The decision chain is audited on the contact, so it shows in the contact's field history.
        register_extra_field("contact", "decision_roles", DecisionRole._meta.get_field("role"))
        register_extra_field("contact", "stance", ContactStanding._meta.get_field("stance"))
        register_extra_field("contact", "warmth", ContactStanding._meta.get_field("warmth"))
