"""Who may see and do what in the feedback app (people, teams and their managers)."""

from __future__ import annotations

from django.contrib.auth.models import User

from amends.accounts.choices import Role
from amends.accounts.models import StaffProfile
from amends.accounts.selectors import staff_profile_of


def profile_or_none(user: User) -> StaffProfile | None:
    try:
        return user.staff
    except StaffProfile.DoesNotExist:
        return None


def team_id_of(user: User) -> int | None:
    profile = profile_or_none(user)
    return profile.team_id if profile is not None else None


def manages(*, actor: User, staff: User) -> bool:
    """A manager or admin manages everyone; a supervisor the other members of their team."""
    if actor.pk == staff.pk:
        return False
    profile = staff_profile_of(user=actor)
    if profile.sees_all_teams:
        return True
    if profile.role != Role.SUPERVISOR or profile.team_id is None:
        return False
    return team_id_of(staff) == profile.team_id


def supervisor_of(*, staff: User | None, team_id: int | None) -> User | None:
    """The first active supervisor of the person's team (else the case's team), else a
    manager: who follows up a detractor on that person's case."""
    team_ids = [t for t in (team_id_of(staff) if staff else None, team_id) if t is not None]
    for tid in team_ids:
        candidates = User.objects.filter(
            is_active=True, staff__team_id=tid, staff__role=Role.SUPERVISOR
        )
        if staff is not None:
            candidates = candidates.exclude(pk=staff.pk)
        found = candidates.order_by("username").first()
        if found is not None:
            return found
    return (
        User.objects.filter(is_active=True, staff__role=Role.MANAGER).order_by("username").first()
    )
