from django.urls import path

from guanxi.pipeline import views

app_name = "pipeline"
urlpatterns = [
    path("", views.board, name="board"),
    path("list/", views.opportunity_list, name="list"),
    path("forecast/", views.forecast_view, name="forecast"),
    path("analysis/", views.analysis_view, name="analysis"),
    path("customers/<int:customer_id>/new/", views.opportunity_create, name="create"),
    path("customers/<int:customer_id>/card/", views.customer_card, name="card"),
    path("opportunities/<int:opportunity_id>/", views.opportunity_detail, name="detail"),
    path("opportunities/<int:opportunity_id>/edit/", views.opportunity_edit, name="edit"),
    path("opportunities/<int:opportunity_id>/move/", views.move, name="move"),
    path("opportunities/<int:opportunity_id>/win/", views.opportunity_win, name="win"),
    path("opportunities/<int:opportunity_id>/lose/", views.opportunity_lose, name="lose"),
    path("opportunities/<int:opportunity_id>/reopen/", views.opportunity_reopen, name="reopen"),
    path("opportunities/<int:opportunity_id>/people/", views.person_set, name="person_set"),
    path(
        "opportunities/<int:opportunity_id>/people/<int:person_id>/remove/",
        views.person_remove,
        name="person_remove",
    ),
    path("manage/", views.manage, name="manage"),
    path("manage/new/", views.pipeline_form, name="pipeline_create"),
    path("manage/<int:pipeline_id>/", views.pipeline_form, name="pipeline_edit"),
    path("manage/<int:pipeline_id>/stages/new/", views.stage_form, name="stage_create"),
    path("manage/<int:pipeline_id>/stages/<int:stage_id>/", views.stage_form, name="stage_edit"),
]
