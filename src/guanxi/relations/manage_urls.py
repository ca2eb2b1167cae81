"""The administrator's playbook pages under /manage/playbooks/ (everyone else gets 404)."""

from django.urls import path

from guanxi.relations import views

app_name = "playbooks"
urlpatterns = [
    path("", views.playbook_admin_list, name="list"),
    path("<str:relationship_type>/", views.playbook_edit, name="edit"),
]
