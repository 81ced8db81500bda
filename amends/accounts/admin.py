from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import User
from django.http import HttpRequest

from amends.accounts.models import ApiToken, StaffProfile, Team


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


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["user"]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at"]
    fields = ["user", "name", "prefix", "key_hash", "created_at", "last_used_at", "revoked_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Tokens are minted by `amends token create` so the raw key is shown exactly once.
        return False
