from django.contrib import admin
from django.http import HttpRequest

from amends.cases.models import CannedReply, Case, CaseEvent, RoutingRule, Tag


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin[Case]):
    """Read-only: cases change only through their services, so the audit trail stays whole."""

    list_display = ["id", "title", "status", "severity", "team", "assignee", "sla_due_at"]
    list_filter = ["status", "severity", "channel"]
    list_select_related = ["team", "assignee"]
    search_fields = ["=id", "title"]
    show_full_result_count = False
    raw_id_fields = ["customer", "assignee", "created_by"]

    def has_change_permission(self, request: HttpRequest, obj: Case | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Case | None = None) -> bool:
        return False


@admin.register(CaseEvent)
class CaseEventAdmin(admin.ModelAdmin[CaseEvent]):
    list_display = ["case", "kind", "actor", "created_at"]
    raw_id_fields = ["case", "actor"]
    show_full_result_count = False

    def has_change_permission(self, request: HttpRequest, obj: CaseEvent | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: CaseEvent | None = None) -> bool:
        return False


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin[RoutingRule]):
    """Where new cases go: tried in position order, the first match wins, then the default."""

    list_display = [
        "name",
        "position",
        "active",
        "is_default",
        "category",
        "service",
        "channel",
        "customer_tier",
        "team",
        "playbook",
        "assignee",
    ]
    list_editable = ["position", "active"]
    list_select_related = ["category__parent", "service", "team", "playbook", "assignee"]
    ordering = ["-active", "is_default", "position", "id"]
    raw_id_fields = ["assignee"]


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin[CannedReply]):
    """Replies offered in the reply box. Placeholders: see cases.services.replies."""

    list_display = ["name", "category", "active"]
    list_filter = ["active"]
    list_select_related = ["category__parent"]
    search_fields = ["name", "body"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin[Tag]):
    list_display = ["name"]
    search_fields = ["name"]
