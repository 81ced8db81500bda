"""Access to the staff UI: signed in, and a staff member of Amends."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from amends.accounts.selectors import staff_profile_of
from amends.core.exceptions import PermissionDeniedError

V = TypeVar("V", bound=Callable[..., HttpResponse])


def staff_required(view: V) -> V:
    """Anonymous users go to the login page; signed-in users without a staff role get a 403
    page (not a redirect, which would loop back to the queue)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            staff_profile_of(user=request.user)  # type: ignore[arg-type]  # signed in here
        except PermissionDeniedError as exc:
            return render(request, "web/forbidden.html", {"message": exc.message}, status=403)
        return view(request, *args, **kwargs)

    return cast(V, login_required(wrapper))
