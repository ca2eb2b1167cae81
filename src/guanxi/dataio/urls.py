from django.urls import path

from guanxi.dataio import views

app_name = "dataio"
urlpatterns = [
    path("", views.home, name="home"),
    path("imports/<int:job_id>/", views.import_detail, name="import"),
    path("imports/<int:job_id>/progress/", views.import_progress, name="progress"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("merge/customers/<int:survivor_id>/<int:merged_id>/", views.merge_customers, name="merge_customers"),
    path("merge/contacts/<int:survivor_id>/<int:merged_id>/", views.merge_contacts, name="merge_contacts"),
    path("merges/<int:record_id>/", views.merged, name="merged"),
    path("merges/<int:record_id>/undo/", views.merge_undo, name="merge_undo"),
    path("export/<str:kind>.<str:file_format>", views.export, name="export"),
    path("person/<str:object_type>/<int:object_id>/", views.person, name="person"),
]
