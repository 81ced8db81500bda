from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from amends.accounts.models import ApiToken, StaffProfile, Team
from amends.accounts.services import api_token_create, api_token_revoke


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ["name", "created_at"]
    search_fields = ["name"]


class StaffProfileInline(admin.StackedInline[StaffProfile, User]):
    model = StaffProfile
    can_delete = False
    fk_name = "user"


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    inlines = [StaffProfileInline]
    list_display = ["username", "email", "staff_role", "staff_team", "is_active"]
    list_select_related = ["staff__team"]
    list_filter = ["staff__role", "staff__team", "is_active"]

    @admin.display(description="role")
    def staff_role(self, obj: User) -> str:
        return getattr(getattr(obj, "staff", None), "role", "")

    @admin.display(description="team")
    def staff_team(self, obj: User) -> str:
        team = getattr(getattr(obj, "staff", None), "team", None)
        return team.name if team else ""


class ApiTokenAddForm(forms.ModelForm[ApiToken]):
    """Who the token acts as and what it is for; the key itself is generated on save."""

    class Meta:
        model = ApiToken
        fields = ["user", "name"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A token acts as a staff member; plain Django users would be refused by the API.
        user_field = cast("forms.ModelChoiceField[User]", self.fields["user"])
        user_field.queryset = User.objects.filter(is_active=True, staff__isnull=False).order_by(
            "username"
        )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Tokens are minted here or with `amends token create`; the raw key is shown exactly once
    (in the success message after saving) and only its hash is stored."""

    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["user"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "user__username", "name"]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at"]
    fields = ["user", "name", "prefix", "key_hash", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_tokens"]

    def get_form(
        self, request: HttpRequest, obj: ApiToken | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
            kwargs["fields"] = ["user", "name"]
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        return ["user", "name"] if obj is None else self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        if obj is None:
            return []
        # An existing token's owner and hash never change; revoking is the only edit.
        return [*self.readonly_fields, "user"]

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        token, raw = api_token_create(user=obj.user, name=obj.name)
        # The admin goes on to log and redirect with this object; make it the saved token.
        obj.pk = token.pk
        obj.prefix = token.prefix
        obj.key_hash = token.key_hash
        obj.created_at = token.created_at
        obj.updated_at = token.updated_at
        obj._state.adding = False
        obj._state.db = token._state.db
        messages.warning(
            request,
            f"API token for {obj.user.username}: {raw} — copy it now; it is not stored and "
            "will not be shown again.",
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke(token=token)
            count += 1
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)
