from django.urls import path

from guanxi.followup import views

app_name = "followup"
urlpatterns = [
    path("today/", views.today, name="today"),
    path("followup/tasks/", views.task_list, name="tasks"),
    path("followup/tasks/<int:task_id>/", views.task_edit, name="task"),
    path("followup/tasks/<int:task_id>/done/", views.task_action, {"action": "done"}, name="task_done"),
    path("followup/tasks/<int:task_id>/reopen/", views.task_action, {"action": "reopen"}, name="task_reopen"),
    path("followup/tasks/<int:task_id>/cancel/", views.task_action, {"action": "cancel"}, name="task_cancel"),
    path("followup/tasks/<int:task_id>/snooze/", views.task_action, {"action": "snooze"}, name="task_snooze"),
    path("followup/appointments/", views.appointment_list, name="appointments"),
    path("followup/appointments/new/<int:customer_id>/", views.appointment_create, name="appointment_create"),
    path("followup/appointments/<int:appointment_id>/", views.appointment_detail, name="appointment"),
    path("followup/appointments/<int:appointment_id>/ics/", views.appointment_ics, name="appointment_ics"),
    path("followup/reminders/<int:reminder_id>/", views.reminder_detail, name="reminder"),
    path("followup/plan/", views.plan, name="plan"),
    path("followup/plan/<int:plan_id>/stops/<int:stop_id>/move/", views.plan_move, name="plan_move"),
    path("followup/plan/<int:plan_id>/optimise/", views.plan_optimise, name="plan_optimise"),
    path("followup/prep/open/<int:customer_id>/", views.prep_open, name="prep_open"),
    path("followup/prep/<int:prep_id>/", views.prep_detail, name="prep"),
    path("followup/prep/<int:prep_id>/print/", views.prep_print, name="prep_print"),
    path("followup/visit/<int:customer_id>/log/", views.visit_log, name="visit_log"),
    path("followup/contacts/<int:contact_id>/dates/", views.contact_dates, name="contact_dates"),
    path("followup/settings/", views.settings_page, name="settings"),
]
