from django.contrib import admin

from amends.taxonomy.models import Category, RootCause, Service


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    list_display = ["__str__", "parent", "active"]
    list_filter = ["active", "parent"]
    list_select_related = ["parent"]
    search_fields = ["name"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin[Service]):
    list_display = ["name", "active"]
    search_fields = ["name"]


@admin.register(RootCause)
class RootCauseAdmin(admin.ModelAdmin[RootCause]):
    list_display = ["name", "expectations_mismanaged", "active"]
    list_filter = ["active", "expectations_mismanaged"]
    search_fields = ["name"]
