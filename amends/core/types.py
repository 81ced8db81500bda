from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_htmx.middleware import HtmxDetails


class AuthedRequest(HttpRequest):
    """A request behind login: `user` is a real staff user."""

    user: User  # narrower than AbstractBaseUser | AnonymousUser: only used behind login
    htmx: HtmxDetails
