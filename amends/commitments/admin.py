from django.contrib import admin

from amends.commitments.models import (
    Commitment,
    CommitmentDueChange,
    Escalation,
    EscalationRule,
    Notification,
)


class CommitmentDueChangeInline(admin.TabularInline[CommitmentDueChange, Commitment]):
    model = CommitmentDueChange
    extra = 0
    readonly_fields = ["previous_due_at", "new_due_at", "reason", "actor", "created_at"]
    can_delete = False


@admin.register(Commitment)
class CommitmentAdmin(admin.ModelAdmin[Commitment]):
    list_display = ["id", "case", "kind", "owner", "due_at", "status"]
    list_filter = ["status", "kind"]
    list_select_related = ["case", "owner"]
    raw_id_fields = ["case", "owner", "created_by", "kept_by"]
    inlines = [CommitmentDueChangeInline]


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin[Escalation]):
    list_display = ["id", "case", "reason", "level", "assignee", "decision_due_at", "status"]
    list_filter = ["status", "level", "reason"]
    list_select_related = ["case", "assignee"]
    raw_id_fields = ["case", "raised_by", "assignee", "decided_by"]


@admin.register(EscalationRule)
class EscalationRuleAdmin(admin.ModelAdmin[EscalationRule]):
    list_display = ["name", "applies_to", "level", "decision_minutes", "active"]
    list_filter = ["applies_to", "active"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    list_display = ["id", "recipient", "kind", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    raw_id_fields = ["recipient", "case"]
