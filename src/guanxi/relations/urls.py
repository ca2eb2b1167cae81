from django.urls import path

from guanxi.relations import views

app_name = "relations"
urlpatterns = [
    path("", views.home, name="home"),
    path("referrals/", views.referrals, name="referrals"),
    path("playbooks/", views.playbooks, name="playbooks"),
    path("customers/<int:customer_id>/map/", views.relationship_map, name="map"),
    path("customers/<int:customer_id>/card/", views.relations_card, name="card"),
    path("customers/<int:customer_id>/links/new/", views.link_create, name="link_create"),
    path("customers/<int:customer_id>/referrals/new/", views.referral_create, name="referral_create"),
    path("customers/<int:customer_id>/downstream/", views.downstream, name="downstream"),
    path("customers/<int:customer_id>/review/", views.review, name="review"),
    path("links/<int:link_id>/delete/", views.link_delete, name="link_delete"),
    path("referrals/<int:referral_id>/delete/", views.referral_delete, name="referral_delete"),
    path("contacts/<int:contact_id>/", views.contact_detail, name="contact"),
    path("contacts/<int:contact_id>/decision/", views.decision_edit, name="decision"),
]
