from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from amends.accounts.choices import Role
from amends.accounts.models import StaffProfile, Team
from amends.core.exceptions import ApplicationError, PermissionDeniedError


def staff_profile_of(*, user: User) -> StaffProfile:
    """The actor's profile; users without one (plain Django users) are not staff of Amends."""
    try:
        return user.staff
    except StaffProfile.DoesNotExist:
        if user.is_superuser:
            return StaffProfile(user=user, role=Role.ADMIN)
        raise PermissionDeniedError("This account has no staff role in Amends.") from None


def staff_list(*, team: Team | None = None) -> QuerySet[User]:
    qs = User.objects.filter(is_active=True, staff__isnull=False).select_related("staff__team")
    if team is not None:
        qs = qs.filter(staff__team=team)
    return qs.order_by("username")


def staff_get_by_username(*, username: str, field: str = "user") -> User:
    """The active staff member with this username, for input that names a person.

    Anyone else (unknown, deactivated, or a plain Django user without a staff role) is the
    same 422, `invalid_<field>`, with `detail` naming the field.
    """
    user = (
        User.objects.filter(username=username, is_active=True, staff__isnull=False)
        .select_related("staff")
        .first()
    )
    if user is None:
        raise ApplicationError(
            f"No staff member {username!r}.",
            code=f"invalid_{field}",
            status=422,
            detail={field: ["Unknown staff member."]},
        )
    return user


def team_list() -> QuerySet[Team]:
    return Team.objects.order_by("name")


def team_list_for_user(*, user: User) -> QuerySet[Team]:
    profile = staff_profile_of(user=user)
    if profile.sees_all_teams:
        return team_list()
    if profile.team_id is None:
        return Team.objects.none()
    return Team.objects.filter(pk=profile.team_id)
