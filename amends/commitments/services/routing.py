"""Who decides an escalation, and by when (in the business hours of the case's calendar)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import User

from amends.accounts.choices import Role
from amends.accounts.models import StaffProfile
from amends.commitments.choices import EscalationLevel
from amends.core.conf import amends_setting
from amends.policies.business_hours import BusinessCalendar, add_business_time
from amends.policies.models import Playbook
from amends.policies.selectors import business_calendar_for


def decision_minutes_for(level: str) -> int:
    return int(amends_setting("ESCALATION_DECISION_MINUTES")[level])


@dataclass
class Routing:
    """Staff who take escalations, loaded once per sweep: the nearest person of each level is
    the team's supervisor, else any manager, else an admin."""

    supervisors: dict[int, int] = field(default_factory=dict)
    manager_id: int | None = None
    admin_id: int | None = None
    usernames: dict[int, str] = field(default_factory=dict)
    calendars: dict[int | None, BusinessCalendar] = field(default_factory=dict)
    # A sweep escalates many cases at one `now`: the decision time repeats per calendar.
    dues: dict[tuple[int | None, str, int | None, datetime], datetime] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Routing:
        routing = cls()
        rows = (
            StaffProfile.objects.filter(
                user__is_active=True, role__in=[Role.SUPERVISOR, Role.MANAGER, Role.ADMIN]
            )
            .order_by("user_id")
            .values_list("team_id", "role", "user_id", "user__username")
        )
        for team_id, role, user_id, username in rows:
            routing.usernames[user_id] = username
            if role == Role.SUPERVISOR and team_id is not None:
                routing.supervisors.setdefault(team_id, user_id)
            elif role == Role.MANAGER and routing.manager_id is None:
                routing.manager_id = user_id
            elif role == Role.ADMIN and routing.admin_id is None:
                routing.admin_id = user_id
        if routing.admin_id is None:
            superuser = (
                User.objects.filter(is_superuser=True, is_active=True)
                .order_by("pk")
                .values_list("pk", "username")
                .first()
            )
            if superuser is not None:
                routing.admin_id, routing.usernames[superuser[0]] = superuser
        return routing

    def assignee_for(self, *, level: str, team_id: int | None) -> int | None:
        if level == EscalationLevel.SUPERVISOR:
            supervisor = self.supervisors.get(team_id) if team_id is not None else None
            return supervisor or self.manager_id or self.admin_id
        if level == EscalationLevel.MANAGER:
            return self.manager_id or self.admin_id
        return self.admin_id or self.manager_id

    def calendar_for(self, playbook_id: int | None) -> BusinessCalendar:
        if playbook_id not in self.calendars:
            playbook = (
                Playbook.objects.select_related("calendar").filter(pk=playbook_id).first()
                if playbook_id is not None
                else None
            )
            self.calendars[playbook_id] = business_calendar_for(playbook=playbook)
        return self.calendars[playbook_id]

    def decision_due(
        self,
        *,
        playbook_id: int | None,
        level: str,
        start: datetime,
        minutes: int | None = None,
    ) -> datetime:
        key = (playbook_id, level, minutes, start)
        if key not in self.dues:
            delta = timedelta(
                minutes=minutes if minutes is not None else decision_minutes_for(level)
            )
            self.dues[key] = add_business_time(
                calendar=self.calendar_for(playbook_id), start=start, delta=delta
            )
        return self.dues[key]
