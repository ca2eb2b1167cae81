from django.urls import path

from guanxi.value import views

app_name = "value"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("pareto/", views.pareto, name="pareto"),
    path("rfm/", views.rfm, name="rfm"),
    path("structure/", views.structure, name="structure"),
    path("analysis/", views.analysis, name="analysis"),
    path("movement/", views.movement, name="movement"),
    path("pruning/", views.pruning, name="pruning"),
    path("classify/", views.classify, name="classify"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/tiers/new/", views.tier_rule_edit, name="tier_new"),
    path("settings/tiers/<int:rule_id>/", views.tier_rule_edit, name="tier_edit"),
    path("settings/policies/new/", views.policy_edit, name="policy_new"),
    path("settings/policies/<int:policy_id>/", views.policy_edit, name="policy_edit"),
    path("customers/<int:customer_id>/card/", views.customer_card, name="card"),
    path("customers/<int:customer_id>/override/", views.customer_override, name="override"),
]
