from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from amends.accounts.models import StaffProfile


def staff(request: HttpRequest) -> dict[str, Any]:
    """The signed-in staff member's profile for the page header (None for others)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"staff_profile": None}
    try:
        return {"staff_profile": user.staff}
    except StaffProfile.DoesNotExist:
        return {"staff_profile": None}
