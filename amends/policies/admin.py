from django import forms
from django.contrib import admin
from django.db import models

from amends.policies.forms import CalendarAdminForm
from amends.policies.models import Calendar, Holiday, Playbook, PlaybookStep, SlaTarget


class HolidayInline(admin.TabularInline[Holiday, Calendar]):
    model = Holiday
    extra = 1


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin[Calendar]):
    form = CalendarAdminForm
    list_display = ["name", "timezone", "is_default"]
    inlines = [HolidayInline]


class PlaybookStepInline(admin.TabularInline[PlaybookStep, Playbook]):
    model = PlaybookStep
    extra = 0
    ordering = ["position"]
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2})}}


class SlaTargetInline(admin.TabularInline[SlaTarget, Playbook]):
    model = SlaTarget
    extra = 0


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin[Playbook]):
    list_display = ["name", "category", "is_default", "calendar"]
    list_select_related = ["category", "calendar"]
    inlines = [PlaybookStepInline, SlaTargetInline]
