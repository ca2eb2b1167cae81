"""Administrators edit the reference data here: visit checklist templates and their own festivals.
(No business rule lives here: the models hold plain data.)"""

from django.contrib import admin

from guanxi.followup.models import ChecklistTemplate, CustomFestival


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(admin.ModelAdmin[ChecklistTemplate]):
    list_display = ("name", "name_en", "is_default", "position")
    list_editable = ("is_default", "position")


@admin.register(CustomFestival)
class CustomFestivalAdmin(admin.ModelAdmin[CustomFestival]):
    list_display = ("name", "calendar", "month", "day", "lead_days", "active")
    list_filter = ("calendar", "active")
