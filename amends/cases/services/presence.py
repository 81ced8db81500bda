"""Who else has a case open: each case page view is noted (one row per person and case, moved
forward on each view); the page shows the others seen within the last few minutes."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from amends.cases.models import Case, CaseViewer

PRESENCE_WINDOW = timedelta(minutes=5)


def case_viewed(*, case: Case, user: User) -> None:
    """Note that `user` has the case open now (an upsert; no timeline event: it changes
    nothing)."""
    now = timezone.now()
    updated = CaseViewer.objects.filter(case=case, user=user).update(seen_at=now)
    if not updated:
        CaseViewer.objects.bulk_create(
            [CaseViewer(case=case, user=user, seen_at=now)], ignore_conflicts=True
        )


def case_viewers_recent(*, case: Case, user: User) -> list[User]:
    """The other people who had the case open in the last few minutes, most recent first."""
    since = timezone.now() - PRESENCE_WINDOW
    rows = (
        CaseViewer.objects.filter(case=case, seen_at__gte=since)
        .exclude(user=user)
        .select_related("user")
        .order_by("-seen_at")[:10]
    )
    return [row.user for row in rows]
