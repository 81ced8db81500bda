from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from amends.accounts.choices import Role
from amends.accounts.tests.factories import UserFactory
from amends.cases.models import Case
from amends.core.exceptions import ApplicationError
from amends.customers.choices import LoyaltyStatus
from amends.customers.models import Customer
from amends.customers.tests.factories import CustomerFactory
from amends.loyalty.choices import CampaignStatus
from amends.loyalty.models import Campaign, CampaignTarget, LoyaltyEvent
from amends.loyalty.selectors import analytics_filters_clean, analytics_overview, campaign_results
from amends.loyalty.services.campaigns import (
    campaign_create,
    campaign_launch,
    campaign_target_accept,
    campaign_target_respond,
)
from amends.loyalty.services.status import loyalty_status_change
from amends.remedies.models import AuthorityRule, Remedy
from amends.remedies.tests.factories import AuthorityRuleFactory, kind

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    user = UserFactory(role=Role.MANAGER)
    AuthorityRuleFactory(role=Role.MANAGER, kind=kind("refund"), max_per_remedy=Decimal("50"))
    return user


def lost(reason: str, manager) -> Customer:
    customer = CustomerFactory(email="lost@example.com")
    loyalty_status_change(
        customer=customer, status=LoyaltyStatus.LOST, reason=reason, actor=manager
    )
    return customer


def create(manager, **overrides):
    args = {
        "name": "Spring win-back",
        "remedy_kind": "refund",
        "amount": "20.00",
        "currency": "GBP",
        "budget": "100",
        "subject": "We'd like you back",
        "body": "Here is 20 pounds off.",
        "actor": manager,
        "lost_reason": "price",
    }
    return campaign_create(**{**args, **overrides})


def test_campaign_create_picks_lost_customers_by_reason(manager) -> None:
    a = lost("Price too high", manager)
    lost("Moved house", manager)
    campaign = create(manager)
    assert list(campaign.targets.values_list("customer_id", flat=True)) == [a.pk]
    assert LoyaltyEvent.objects.filter(kind="campaign_created").exists()


def test_campaign_create_refuses_no_customers_over_budget_and_over_authority(manager) -> None:
    with pytest.raises(ApplicationError) as exc:
        create(manager)
    assert exc.value.code == "campaign_no_customers"
    for _ in range(6):
        lost("Price", manager)
    with pytest.raises(ApplicationError) as exc:
        create(manager)  # 6 x 20 = 120 > 100
    assert exc.value.code == "over_budget"
    with pytest.raises(ApplicationError) as exc:
        create(manager, amount="60.00", budget="1000")  # above the 50 limit
    assert exc.value.code == "above_authority"
    assert Campaign.objects.count() == 0
    assert CampaignTarget.objects.count() == 0


def test_campaign_create_refuses_bad_input(manager) -> None:
    lost("Price", manager)
    for overrides, code in (
        ({"remedy_kind": "nope"}, "unknown_kind"),
        ({"amount": "1e30"}, "invalid_amount"),
        ({"budget": "NaN"}, "invalid_campaign"),
        ({"name": " "}, "invalid_campaign"),
        ({"body": "x\x00"}, "invalid_campaign"),
    ):
        with pytest.raises(ApplicationError) as exc:
            create(manager, **overrides)
        assert exc.value.code == code, overrides
    assert Campaign.objects.count() == 0


def test_accepting_an_offer_wins_the_customer_back_and_books_the_cost(manager) -> None:
    customer = lost("Price", manager)
    campaign = create(manager)
    target = campaign.targets.get()
    with pytest.raises(ApplicationError) as exc:
        campaign_target_accept(target=target, actor=manager)
    assert exc.value.code == "campaign_not_launched"
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.LAUNCHED)
    campaign_target_respond(target=target, actor=manager)
    target = campaign_target_accept(target=target, actor=manager)
    assert target.won_back_at is not None
    assert target.cost == Decimal("20.00")
    assert Customer.objects.get(pk=customer.pk).loyalty_status == LoyaltyStatus.WON_BACK
    assert campaign_results(campaign=campaign) == {
        "targets": 1,
        "contacted": 0,
        "responded": 1,
        "accepted": 1,
        "won_back": 1,
        "retention_cost": Decimal("20.00"),
    }
    with pytest.raises(ApplicationError) as exc:
        campaign_target_accept(target=target, actor=manager)
    assert exc.value.code == "already_accepted"


def test_an_accepted_offer_is_retention_cost_not_a_remedy_or_a_case(manager) -> None:
    """Decided: a win-back offer is a cost of keeping the customer. Accepting it creates no
    Remedy and opens no case (which would count as a failure in every report); the dashboard
    shows it apart from the remedies' recovery cost."""
    lost("Price", manager)
    campaign = create(manager)
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.LAUNCHED)
    campaign_target_accept(target=campaign.targets.get(), actor=manager)
    assert not Remedy.objects.exists()
    assert not Case.objects.exists()
    filters = analytics_filters_clean()
    overview = analytics_overview(filters=filters)
    assert overview.retention_cost == Decimal("20.00")
    assert (overview.totals.cost, overview.totals.opened) == (Decimal("0.00"), 0)
    # campaigns are not split by team: no retention figure for one team's view
    team = analytics_filters_clean(team_id=manager.staff.team_id or 1)
    assert analytics_overview(filters=team).retention_cost is None
    # an offer accepted before the period is not in it
    later = analytics_filters_clean(
        since=filters.until + timedelta(days=1), until=filters.until + timedelta(days=7)
    )
    assert analytics_overview(filters=later).retention_cost == Decimal("0.00")


def test_campaign_launch_checks_the_launchers_authority_again(manager) -> None:
    pytest.importorskip("amends.channels.services.outbound")
    lost("Price", manager)
    campaign = create(manager)
    supervisor = UserFactory(role=Role.SUPERVISOR)  # no authority rule for refunds
    with pytest.raises(ApplicationError) as exc:
        campaign_launch(campaign=campaign, actor=supervisor)
    assert (exc.value.code, exc.value.status) == ("above_authority", 403)
    # the manager's own limit is lowered below the offer after the campaign was made
    AuthorityRule.objects.filter(role=Role.MANAGER).update(max_per_remedy=Decimal("10"))
    with pytest.raises(ApplicationError) as exc:
        campaign_launch(campaign=campaign, actor=manager)
    assert exc.value.code == "above_authority"
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.targets.get().contacted_at is None
    AuthorityRule.objects.filter(role=Role.MANAGER).update(max_per_remedy=Decimal("20"))
    assert campaign_launch(campaign=campaign, actor=manager) == 1


def test_campaign_launch_refuses_a_budget_that_no_longer_covers_the_targets(manager) -> None:
    lost("Price", manager)
    lost("Price", manager)
    campaign = create(manager)  # 2 x 20 within 100
    Campaign.objects.filter(pk=campaign.pk).update(budget=Decimal("30"))
    with pytest.raises(ApplicationError) as exc:
        campaign_launch(campaign=campaign, actor=manager)
    assert exc.value.code == "over_budget"
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_campaign_launch_queues_one_email_per_customer(manager) -> None:
    pytest.importorskip("amends.channels.services.outbound")
    lost("Price", manager)
    campaign = create(manager)
    assert campaign_launch(campaign=campaign, actor=manager) == 1
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.LAUNCHED
    assert campaign.targets.get().contacted_at is not None
    with pytest.raises(ApplicationError) as exc:
        campaign_launch(campaign=campaign, actor=manager)
    assert exc.value.code == "campaign_launched"
