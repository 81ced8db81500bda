from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from amends.core.exceptions import ApplicationError
from amends.incidents.models import (
    Incident,
    IncidentKind,
    NotificationTemplate,
    Problem,
    RecoveryPolicy,
)
from amends.incidents.services.notify import template_check
from amends.incidents.services.policies import policy_create, policy_rules_clean


@admin.register(IncidentKind)
class IncidentKindAdmin(admin.ModelAdmin[IncidentKind]):
    list_display = ["code", "name", "magnitude_unit", "active", "position"]
    list_editable = ["active", "position"]
    search_fields = ["code", "name"]


class PolicyForm(forms.ModelForm[RecoveryPolicy]):
    class Meta:
        model = RecoveryPolicy
        fields = ["kind", "name", "owner", "currency", "budget_cap", "rules", "note"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        owner, rules = data.get("owner"), data.get("rules")
        if owner is not None and rules is not None:
            if isinstance(rules, str):
                rules = json.loads(rules)
            try:
                data["rules"] = policy_rules_clean(rules=rules, owner=owner)
            except ApplicationError as exc:
                raise ValidationError(exc.detail.get("rules") or exc.message) from exc
        return data


@admin.register(RecoveryPolicy)
class RecoveryPolicyAdmin(admin.ModelAdmin[RecoveryPolicy]):
    """Versions are never edited: "add" makes the kind's next version (conflicts refused)."""

    form = PolicyForm
    list_display = ["name", "kind", "version", "active", "owner", "budget_cap", "currency"]
    list_filter = ["kind", "active"]

    def get_readonly_fields(self, request: HttpRequest, obj: RecoveryPolicy | None = None) -> Any:
        if obj is not None:
            return [f.name for f in RecoveryPolicy._meta.fields]
        return []

    def save_model(
        self, request: HttpRequest, obj: RecoveryPolicy, form: Any, change: bool
    ) -> None:
        if change:
            return
        created = policy_create(
            kind=obj.kind,
            name=obj.name,
            rules=obj.rules,
            owner=obj.owner,
            currency=obj.currency,
            budget_cap=obj.budget_cap,
            note=obj.note,
            actor=request.user,  # type: ignore[arg-type]  # admin users are signed in
        )
        obj.pk = created.pk
        obj.version = created.version


class TemplateForm(forms.ModelForm[NotificationTemplate]):
    class Meta:
        model = NotificationTemplate
        fields = ["kind", "round_kind", "subject", "body"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for field in ("subject", "body"):
            try:
                template_check(data.get(field) or "", field)
            except ApplicationError as exc:
                self.add_error(field, exc.message)
        return data


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin[NotificationTemplate]):
    form = TemplateForm
    list_display = ["kind", "round_kind", "subject"]
    list_filter = ["round_kind", "kind"]


@admin.register(Problem)
class ProblemAdmin(admin.ModelAdmin[Problem]):
    list_display = ["title", "root_cause", "status", "created_at"]
    list_filter = ["status"]


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin[Incident]):
    """Read-only: incidents change through the app (services audit every change)."""

    list_display = ["title", "kind", "status", "severity", "started_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["kind"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
