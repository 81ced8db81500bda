"""Routing rules: where a new case goes, by what it is about rather than who opened it.

Rules are admin-configured (cases.admin) and ordered by position. The first active rule whose
conditions (category, service, channel, customer tier) all match wins; an empty condition
matches anything, a top-level category matches its subcategories, and the default rule applies
when nothing else matches. Every intake applies them: `case_create` (API, web form, email, the
public report form, incidents) and `cases_open_many` in cases.services.batch (imports, one read
of the rules per batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User

from amends.accounts.models import Team
from amends.cases.models import RoutingRule
from amends.core.rows import instances_where
from amends.taxonomy.models import Category


@dataclass(frozen=True)
class Route:
    """What a matching rule decides: a team, and maybe a playbook and an assignee."""

    rule_id: int
    rule_name: str
    team: Team
    playbook_id: int | None
    assignee: User | None


def routing_rules_load() -> list[RoutingRule]:
    """The active rules in the order they are tried (the default rule last), by one fixed
    statement (every intake reads them, and the ORM's compiling of the query cost more than
    running it, about 1 ms a case); the matching rule's team and assignee are read when the
    route is made, two short reads instead of joining them onto every rule."""
    return instances_where(RoutingRule, "active = %s", [True], ["is_default", "position", "id"])


def _matches(
    rule: RoutingRule,
    *,
    category: Category | None,
    service_id: int | None,
    channel: str,
    customer_tier: str,
) -> bool:
    if rule.category_id is not None and (
        category is None or rule.category_id not in (category.pk, category.parent_id)
    ):
        return False
    if rule.service_id is not None and rule.service_id != service_id:
        return False
    if rule.channel and rule.channel != channel:
        return False
    return not (rule.customer_tier and rule.customer_tier != customer_tier)


def route_match(
    rules: Sequence[RoutingRule],
    *,
    category: Category | None,
    service_id: int | None,
    channel: str,
    customer_tier: str,
) -> Route | None:
    """The route of the first rule of `rules` (from `routing_rules_load`) that matches."""
    for rule in rules:
        if rule.is_default or _matches(
            rule,
            category=category,
            service_id=service_id,
            channel=channel,
            customer_tier=customer_tier,
        ):
            assignee = rule.assignee
            if assignee is not None and not assignee.is_active:
                assignee = None  # a rule naming someone who left sends to the team queue
            return Route(
                rule_id=rule.pk,
                rule_name=rule.name,
                team=rule.team,
                playbook_id=rule.playbook_id,
                assignee=assignee,
            )
    return None
