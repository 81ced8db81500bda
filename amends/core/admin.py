from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from amends.core.models import Organisation


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    """One row: the organisation's time zone and currency (defaults from the environment)."""

    list_display = ("__str__", "time_zone", "currency")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not Organisation.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Organisation | None = None) -> bool:
        return False

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, str | list[str]]:
        from amends.core.organisation import organisation_defaults

        defaults = organisation_defaults()
        return {"time_zone": defaults.time_zone, "currency": defaults.currency}

    def save_model(
        self, request: HttpRequest, obj: Organisation, form: object, change: bool
    ) -> None:
        obj.pk = 1
        super().save_model(request, obj, form, change)
