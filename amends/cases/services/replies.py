"""Canned replies: admin-written texts agents pick in the reply box, with placeholders filled
in for the case on the server. A placeholder we do not know is left as typed and reported, so
the agent sees it before sending."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from amends.cases.models import CannedReply, Case

PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _first(name: str) -> str:
    return name.split()[0] if name.split() else name


def _person(user: User) -> str:
    return user.get_full_name() or user.username


PLACEHOLDERS: dict[str, tuple[str, Callable[[Case, User], str]]] = {
    "customer_name": ("The customer's name", lambda c, u: c.customer.name),
    "customer_first_name": ("The customer's first name", lambda c, u: _first(c.customer.name)),
    "case_ref": ("The case reference (AM-000123)", lambda c, u: c.ref),
    "case_title": ("The case title", lambda c, u: c.title),
    "agent_name": ("Your name", lambda c, u: _person(u)),
    "agent_first_name": ("Your first name", lambda c, u: u.first_name or u.username),
    "team_name": ("The case's team", lambda c, u: c.team.name if c.team else ""),
    "category": ("The case's category", lambda c, u: str(c.category) if c.category else ""),
    "service": ("The service affected", lambda c, u: c.service.name if c.service else ""),
}


@dataclass(frozen=True)
class RenderedReply:
    body: str
    unknown: list[str]


def canned_replies_for_case(*, case: Case) -> QuerySet[CannedReply]:
    """The active replies offered on this case: for everyone, or for its category (a reply for
    a top-level category is offered on its subcategories too)."""
    categories = []
    if case.category_id is not None:
        categories.append(case.category_id)
        if case.category is not None and case.category.parent_id:
            categories.append(case.category.parent_id)
    return (
        CannedReply.objects.filter(active=True)
        .filter(Q(category__isnull=True) | Q(category_id__in=categories))
        .select_related("category__parent")
        .order_by("name", "id")
    )


def canned_reply_render(*, reply: CannedReply, case: Case, actor: User) -> RenderedReply:
    """The reply's text with its placeholders filled in for `case`, written by `actor`."""
    unknown: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        known = PLACEHOLDERS.get(name)
        if known is None:
            if name not in unknown:
                unknown.append(name)
            return match.group(0)
        return known[1](case, actor)

    return RenderedReply(body=PLACEHOLDER_RE.sub(fill, reply.body), unknown=unknown)
