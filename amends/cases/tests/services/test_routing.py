"""Routing rules: a table of cases and the team each one lands in, through every intake."""

from __future__ import annotations

from typing import Any

import pytest

from amends.accounts.models import Team
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.choices import CaseEventKind, Channel, MessageDirection
from amends.cases.models import Case, RoutingRule
from amends.cases.services.batch import NewCase, cases_open_many
from amends.cases.services.intake import case_create, case_intake
from amends.cases.services.routing import route_match, routing_rules_load
from amends.customers.choices import CustomerTier
from amends.customers.services import CustomerKey
from amends.customers.tests.factories import CustomerFactory
from amends.policies.models import Playbook
from amends.taxonomy.tests.factories import CategoryFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, Any]:
    """Teams, a two-level category tree, services and an ordered set of rules."""
    teams = {name: TeamFactory(name=name) for name in ("Network", "Billing", "VIP desk", "Front")}
    network = CategoryFactory(name="Network")
    outage = CategoryFactory(name="Broadband outage", parent=network)
    billing = CategoryFactory(name="Billing")
    mobile = ServiceFactory(name="Mobile")
    broadband = ServiceFactory(name="Broadband")
    playbook = Playbook.objects.create(name="Outage playbook")
    rules = [
        # VIPs first, whatever their case is about.
        {
            "name": "VIPs",
            "position": 1,
            "customer_tier": CustomerTier.VIP,
            "team": teams["VIP desk"],
        },
        # Social media complaints about billing go to the front desk.
        {
            "name": "Social billing",
            "position": 2,
            "category": billing,
            "channel": Channel.SOCIAL,
            "team": teams["Front"],
        },
        {"name": "Billing", "position": 3, "category": billing, "team": teams["Billing"]},
        # A top-level category covers its subcategories.
        {
            "name": "Network",
            "position": 4,
            "category": network,
            "team": teams["Network"],
            "playbook": playbook,
        },
        {"name": "Mobile", "position": 5, "service": mobile, "team": teams["Network"]},
        {"name": "Inactive", "position": 0, "team": teams["Billing"], "active": False},
        {"name": "Default", "position": 0, "is_default": True, "team": teams["Front"]},
    ]
    for rule in rules:
        RoutingRule.objects.create(**rule)
    return {
        "teams": teams,
        "categories": {"network": network, "outage": outage, "billing": billing},
        "services": {"mobile": mobile, "broadband": broadband},
        "playbook": playbook,
    }


# category, service, channel, tier -> rule, team
TABLE = [
    ("outage", None, Channel.PHONE, CustomerTier.STANDARD, "Network", "Network"),
    ("network", "broadband", Channel.EMAIL, CustomerTier.STANDARD, "Network", "Network"),
    ("billing", None, Channel.PHONE, CustomerTier.STANDARD, "Billing", "Billing"),
    ("billing", None, Channel.SOCIAL, CustomerTier.STANDARD, "Social billing", "Front"),
    ("billing", None, Channel.SOCIAL, CustomerTier.VIP, "VIPs", "VIP desk"),
    (None, "mobile", Channel.WEB, CustomerTier.STANDARD, "Mobile", "Network"),
    (None, "broadband", Channel.WEB, CustomerTier.STANDARD, "Default", "Front"),
    (None, None, Channel.API, CustomerTier.STANDARD, "Default", "Front"),
]


@pytest.mark.parametrize(("category", "service", "channel", "tier", "rule", "team"), TABLE)
def test_route_match_first_matching_rule_wins(
    world: dict[str, Any],
    category: str | None,
    service: str | None,
    channel: str,
    tier: str,
    rule: str,
    team: str,
) -> None:
    route = route_match(
        routing_rules_load(),
        category=world["categories"][category] if category else None,
        service_id=world["services"][service].pk if service else None,
        channel=channel,
        customer_tier=tier,
    )
    assert route is not None
    assert (route.rule_name, route.team.name) == (rule, team)


@pytest.mark.parametrize(("category", "service", "channel", "tier", "rule", "team"), TABLE)
def test_case_create_lands_in_the_routed_team(
    world: dict[str, Any],
    category: str | None,
    service: str | None,
    channel: str,
    tier: str,
    rule: str,
    team: str,
) -> None:
    # Opened by a billing agent, whatever it is about.
    agent = UserFactory(team=world["teams"]["Billing"])
    case = case_create(
        customer=CustomerFactory(tier=tier),
        title="Something went wrong",
        category=world["categories"][category] if category else None,
        service=world["services"][service] if service else None,
        channel=channel,
        actor=agent,
    )
    assert case.team is not None
    assert case.team.name == team
    created = case.events.get(kind=CaseEventKind.CREATED)
    assert (created.data["routing_rule"], created.data["team"]) == (rule, team)


def test_case_create_takes_the_rules_playbook_and_assignee(world: dict[str, Any]) -> None:
    engineer = UserFactory(team=world["teams"]["Network"])
    RoutingRule.objects.filter(name="Network").update(assignee=engineer)
    case = case_create(
        customer=CustomerFactory(),
        title="No broadband",
        category=world["categories"]["outage"],
        actor=None,
    )
    assert (case.team, case.assignee, case.playbook) == (
        world["teams"]["Network"],
        engineer,
        world["playbook"],
    )


def test_case_create_sends_to_the_team_queue_when_the_rules_assignee_left(
    world: dict[str, Any],
) -> None:
    engineer = UserFactory(team=world["teams"]["Network"], is_active=False)
    RoutingRule.objects.filter(name="Network").update(assignee=engineer)
    case = case_create(
        customer=CustomerFactory(), title="Down", category=world["categories"]["outage"], actor=None
    )
    assert (case.team, case.assignee) == (world["teams"]["Network"], None)


def test_case_create_keeps_the_team_a_person_chose(world: dict[str, Any]) -> None:
    chosen = world["teams"]["Billing"]
    case = case_create(
        customer=CustomerFactory(),
        title="Down",
        category=world["categories"]["outage"],
        team=chosen,
        actor=None,
    )
    created = case.events.get(kind=CaseEventKind.CREATED)
    assert case.team == chosen
    assert created.data["routing_overridden"] is True
    # The rule's playbook still applies: it is about what the case is, not who works it.
    assert case.playbook == world["playbook"]


def test_case_create_without_rules_leaves_the_case_unrouted() -> None:
    case = case_create(customer=CustomerFactory(), title="Down", actor=None)
    assert case.team is None
    assert "routing_rule" not in case.events.get(kind=CaseEventKind.CREATED).data


def test_case_intake_keeps_the_customers_account_as_the_first_message() -> None:
    case = case_intake(
        customer=CustomerFactory(),
        new_customer=None,
        title="Charged twice",
        description="I was charged twice for March.",
        channel=Channel.PHONE,
        actor=UserFactory(),
    )
    first = case.messages.get()
    assert (first.direction, first.body, first.author) == (
        MessageDirection.INBOUND,
        "I was charged twice for March.",
        None,
    )


@pytest.mark.parametrize(("as_message", "description"), [(False, "Old record"), (True, "")])
def test_case_create_adds_no_message_without_the_customers_own_account(
    as_message: bool, description: str
) -> None:
    case = case_create(
        customer=CustomerFactory(),
        title="X",
        description=description,
        account_as_message=as_message,
        actor=None,
    )
    assert not case.messages.exists()


def test_cases_open_many_routes_every_case_like_case_create(world: dict[str, Any]) -> None:
    rows = [(category, service, tier, team) for category, service, _, tier, _, team in TABLE]
    customers = {tier: CustomerFactory(tier=tier) for tier in CustomerTier.values}
    specs = [
        NewCase(
            customer=CustomerKey(customers[tier].pk, tier, False),
            title=f"Imported {index}",
            category=world["categories"][category] if category else None,
            service_id=world["services"][service].pk if service else None,
        )
        for index, (category, service, tier, _) in enumerate(rows)
    ]
    ids = cases_open_many(specs=specs)
    teams = dict(Team.objects.values_list("pk", "name"))
    stored = Case.objects.filter(pk__in=ids).order_by("pk")
    got = [teams[pk] for pk in stored.values_list("team_id", flat=True)]
    # Imports come in on the import channel: the "social billing" row is plain billing here.
    assert got == [
        "Network",
        "Network",
        "Billing",
        "Billing",
        "VIP desk",
        "Network",
        "Front",
        "Front",
    ]
    first = stored.first()
    assert first is not None
    assert first.playbook == world["playbook"]  # the rule's playbook
    created = first.events.get(kind=CaseEventKind.CREATED)
    assert (created.data["routing_rule"], created.data["team"]) == ("Network", "Network")
