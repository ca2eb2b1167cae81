from django.urls import path
from django.views.generic import RedirectView

from guanxi.service.views import complaints, notices, objections, prep, promises, surveys

app_name = "service"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="service:complaints"), name="home"),
    path("complaints/", complaints.dashboard, name="complaints"),
    path("complaints/new/<int:customer_id>/", complaints.create, name="complaint_create"),
    path("complaints/<int:complaint_id>/", complaints.detail, name="complaint"),
    path("complaints/<int:complaint_id>/edit/", complaints.edit, name="complaint_edit"),
    *[
        path(
            f"complaints/<int:complaint_id>/{action}/",
            complaints.step,
            {"action": action},
            name=f"complaint_{action}",
        )
        for action in complaints.STEP_FORMS
    ],
    path("promises/", promises.dashboard, name="promises"),
    path("promises/new/<int:customer_id>/", promises.create, name="promise_create"),
    path("promises/<int:promise_id>/", promises.detail, name="promise"),
    path("promises/<int:promise_id>/close/", promises.close, name="promise_close"),
    path("objections/", objections.objection_list, name="objections"),
    path("objections/new/", objections.create, name="objection_create"),
    path("objections/analysis/", objections.analysis, name="objection_analysis"),
    path("objections/knowledge/", objections.knowledge, name="knowledge"),
    path("objections/<int:objection_id>/", objections.detail, name="objection"),
    path("surveys/", surveys.dashboard, name="surveys"),
    path("surveys/new/<int:customer_id>/", surveys.invite, name="survey_invite"),
    path("surveys/<int:invitation_id>/revoke/", surveys.revoke, name="survey_revoke"),
    path("prep/<int:customer_id>/", prep.prep_section, name="prep_section"),
    path("notices/", notices.notices, name="notices"),
    path("absences/", notices.absences, name="absences"),
    path("absences/<int:absence_id>/delete/", notices.absence_delete, name="absence_delete"),
]
