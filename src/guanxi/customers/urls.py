from django.urls import path

from guanxi.customers import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("<int:customer_id>/", views.customer_detail, name="detail"),
    path("<int:customer_id>/timeline/", views.customer_timeline_more, name="timeline"),
    path("<int:customer_id>/edit/", views.customer_edit, name="edit"),
    path("<int:customer_id>/history/", views.customer_history, name="history"),
    path("<int:customer_id>/delete/", views.customer_delete, name="delete"),
    path("<int:customer_id>/share/", views.customer_share, name="share"),
    path("<int:customer_id>/share/<int:share_id>/delete/", views.customer_unshare, name="unshare"),
    path("<int:customer_id>/contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:contact_id>/history/", views.contact_history, name="contact_history"),
    path("contacts/<int:contact_id>/delete/", views.contact_delete, name="contact_delete"),
]
