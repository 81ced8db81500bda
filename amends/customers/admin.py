from django.contrib import admin

from amends.customers.models import Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin[Customer]):
    list_display = ["name", "external_ref", "email", "tier", "special_handling", "loyalty_status"]
    list_filter = ["tier", "special_handling", "loyalty_status"]
    search_fields = ["=external_ref", "name", "=email"]
    show_full_result_count = False
