from __future__ import annotations

from datetime import timedelta

import pytest

from amends.policies.models import Calendar
from amends.policies.selectors import (
    business_calendar_for,
    playbook_for_category,
    policy_cache_clear,
    sla_policy_for,
)
from amends.policies.tests.factories import (
    CalendarFactory,
    PlaybookFactory,
    PlaybookStepFactory,
    SlaTargetFactory,
)
from amends.taxonomy.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def test_playbook_for_category_prefers_own_then_parent_then_default() -> None:
    billing = CategoryFactory(name="Billing")
    overcharge = CategoryFactory(name="Overcharge", parent=billing)
    refund = CategoryFactory(name="Refund", parent=billing)
    other = CategoryFactory(name="Network")
    default = PlaybookFactory(is_default=True)
    parent_playbook = PlaybookFactory(category=billing)
    own = PlaybookFactory(category=overcharge)
    assert playbook_for_category(category=overcharge) == own
    assert playbook_for_category(category=refund) == parent_playbook
    assert playbook_for_category(category=billing) == parent_playbook
    assert playbook_for_category(category=other) == default
    assert playbook_for_category(category=None) == default


def test_playbook_for_category_none_configured() -> None:
    assert playbook_for_category(category=None) is None


def test_playbook_steps_come_in_position_order() -> None:
    playbook = PlaybookFactory(is_default=True)
    PlaybookStepFactory(playbook=playbook, step="rectify", position=2)
    PlaybookStepFactory(playbook=playbook, step="acknowledge", position=0)
    found = playbook_for_category(category=None)
    assert [s.step for s in found.steps.all()] == ["acknowledge", "rectify"]


def test_sla_policy_for_uses_targets_else_fallback() -> None:
    playbook = PlaybookFactory()
    SlaTargetFactory(playbook=playbook, severity=2, acknowledge_minutes=30, resolve_minutes=90)
    policy = sla_policy_for(playbook=playbook, severity=2)
    assert (policy.acknowledge, policy.resolve) == (timedelta(minutes=30), timedelta(minutes=90))
    fallback = sla_policy_for(playbook=playbook, severity=1)
    assert (fallback.acknowledge, fallback.resolve) == (timedelta(hours=1), timedelta(hours=8))
    assert sla_policy_for(playbook=None, severity=4).resolve == timedelta(hours=80)


def test_business_calendar_for_uses_playbook_then_default_calendar() -> None:
    london = CalendarFactory(timezone="Europe/London")
    default = CalendarFactory(timezone="America/New_York", is_default=True)
    assert str(business_calendar_for(playbook=PlaybookFactory(calendar=london)).tz) == (
        "Europe/London"
    )
    assert str(business_calendar_for(playbook=PlaybookFactory()).tz) == "America/New_York"
    assert str(business_calendar_for(playbook=None).tz) == "America/New_York"
    # A bulk update bypasses the save signals that clear the policy cache; other processes
    # see such a change when their copy expires, this one when it is cleared.
    Calendar.objects.filter(pk=default.pk).update(is_default=False)
    assert str(business_calendar_for(playbook=None).tz) == "America/New_York"
    policy_cache_clear()
    always = business_calendar_for(playbook=None)
    assert always.hours[5]  # open on Saturdays: the always-open fallback


def test_calendar_clean_rejects_bad_zone_and_hours() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as excinfo:
        CalendarFactory.build(name="X", timezone="Mars/Olympus").full_clean()
    assert "timezone" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        CalendarFactory.build(name="Y", hours={"mon": [["17:00", "09:00"]]}).full_clean()
    assert "hours" in excinfo.value.message_dict


def test_policy_cache_serves_playbooks_without_queries_and_clears_on_save(
    django_assert_num_queries,
) -> None:
    from amends.policies.models import Playbook
    from amends.policies.selectors import playbook_for_category

    default = PlaybookFactory(is_default=True)
    playbook_for_category(category=None)  # warm the cache
    with django_assert_num_queries(0):
        assert playbook_for_category(category=None) == default
    default.is_default = False
    default.save()  # post_save clears the cache in this process
    assert playbook_for_category(category=None) is None
    assert Playbook.objects.count() == 1
