from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from amends.remedies.models import (
    AuthorityChange,
    AuthorityRule,
    CannotDoItem,
    ChoiceMenu,
    Remedy,
    RemedyKind,
)
from amends.remedies.services.matrix import authority_change_record


@admin.register(RemedyKind)
class RemedyKindAdmin(admin.ModelAdmin[RemedyKind]):
    list_display = ["code", "name", "monetary", "active", "position"]
    list_editable = ["active", "position"]
    search_fields = ["code", "name"]


@admin.register(AuthorityRule)
class AuthorityRuleAdmin(admin.ModelAdmin[AuthorityRule]):
    list_display = [
        "role",
        "user",
        "kind",
        "allowed",
        "max_per_remedy",
        "max_per_case",
        "max_per_customer",
        "period_days",
    ]
    list_filter = ["role", "kind", "allowed"]
    search_fields = ["user__username", "kind__code"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "kind"]

    def save_model(
        self, request: HttpRequest, obj: AuthorityRule, form: ModelForm[AuthorityRule], change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        authority_change_record(rule=obj, actor=request.user, source="admin")  # type: ignore[arg-type]  # admin users are real users

    def delete_model(self, request: HttpRequest, obj: AuthorityRule) -> None:
        authority_change_record(rule=obj, actor=request.user, source="admin", deleted=True)  # type: ignore[arg-type]  # admin users are real users
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AuthorityRule]) -> None:
        for rule in queryset.select_related("user", "kind"):
            authority_change_record(rule=rule, actor=request.user, source="admin", deleted=True)  # type: ignore[arg-type]  # admin users are real users
        super().delete_queryset(request, queryset)


@admin.register(CannotDoItem)
class CannotDoItemAdmin(admin.ModelAdmin[CannotDoItem]):
    list_display = ["role", "text", "position"]
    list_filter = ["role"]
    search_fields = ["text"]


@admin.register(AuthorityChange)
class AuthorityChangeAdmin(admin.ModelAdmin[AuthorityChange]):
    list_display = ["created_at", "actor", "source", "data"]
    list_filter = ["source"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class _ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Remedies change only through services (limits, routing, timeline); admins just look."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Remedy)
class RemedyAdmin(_ReadOnlyAdmin):
    list_display = [
        "id",
        "case",
        "kind",
        "amount",
        "currency",
        "status",
        "proposed_by",
        "approver",
        "decision_due_at",
        "created_at",
    ]
    list_filter = ["status", "kind"]
    list_select_related = ["case", "kind", "proposed_by", "approver"]
    raw_id_fields = ["case", "customer", "menu"]
    show_full_result_count = False


@admin.register(ChoiceMenu)
class ChoiceMenuAdmin(_ReadOnlyAdmin):
    list_display = ["id", "case", "status", "created_by", "chosen", "created_at"]
    list_filter = ["status"]
    list_select_related = ["case", "created_by", "chosen"]
    raw_id_fields = ["case", "chosen"]
    show_full_result_count = False
