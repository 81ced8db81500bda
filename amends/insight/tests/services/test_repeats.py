from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from amends.cases.models import Case
from amends.cases.tests.factories import CaseFactory
from amends.commitments.choices import CommitmentStatus
from amends.commitments.models import Commitment
from amends.commitments.tests.factories import CommitmentFactory
from amends.core import hooks
from amends.core.testing import hook_recorded
from amends.customers.tests.factories import CustomerFactory
from amends.insight.models import CaseInsight, RepeatLink
from amends.insight.services.repeats import text_similarity
from amends.taxonomy.tests.factories import CategoryFactory, ServiceFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def open_case_at(when: datetime, **kwargs) -> Case:
    with time_machine.travel(when, tick=False):
        return CaseFactory(**kwargs)


def test_repeat_detect_links_same_category_within_window_and_raises_severity():
    customer = CustomerFactory()
    billing = CategoryFactory(name="Billing")
    first = open_case_at(T0, customer=customer, category=billing, description="Charged twice")
    second = open_case_at(
        T0 + timedelta(days=30), customer=customer, category=billing, description="Wrong bill"
    )
    link = RepeatLink.objects.get(case=second)
    assert link.earlier_case_id == first.pk
    assert link.reasons == ["same_category"]
    second.refresh_from_db()
    assert second.severity == 2  # medium (3) raised one step
    assert CaseInsight.objects.get(case=second).repeat is True


def test_repeat_detect_links_same_service_and_similar_text_across_categories():
    customer = CustomerFactory()
    broadband = ServiceFactory(name="Broadband")
    first = open_case_at(
        T0,
        customer=customer,
        category=CategoryFactory(),
        description="Broadband connection drops every evening around seven",
    )
    by_service = open_case_at(
        T0 + timedelta(days=1), customer=customer, service=broadband, description="Slow"
    )
    by_text = open_case_at(
        T0 + timedelta(days=2),
        customer=customer,
        category=CategoryFactory(),
        description="My broadband connection drops every evening again",
    )
    assert not RepeatLink.objects.filter(case=by_service, earlier_case=first).exists()
    assert RepeatLink.objects.get(case=by_text, earlier_case=first).reasons == ["similar_text"]
    # a third case on the same service links to the second
    third = open_case_at(
        T0 + timedelta(days=3), customer=customer, service=broadband, description="Router"
    )
    assert "same_service" in RepeatLink.objects.get(case=third, earlier_case=by_service).reasons


def test_repeat_detect_ignores_cases_outside_the_window_and_other_customers():
    billing = CategoryFactory()
    customer = CustomerFactory()
    open_case_at(T0, customer=customer, category=billing)
    open_case_at(T0 + timedelta(days=10), customer=CustomerFactory(), category=billing)
    late = open_case_at(T0 + timedelta(days=181), customer=customer, category=billing)
    assert not RepeatLink.objects.filter(case=late).exists()
    assert late.severity == 3


def test_repeat_detect_window_is_configurable(amends_overrides):
    amends_overrides(REPEAT_WINDOW_DAYS=7, REPEAT_SEVERITY_STEP=0)
    billing = CategoryFactory()
    customer = CustomerFactory()
    open_case_at(T0, customer=customer, category=billing)
    within = open_case_at(T0 + timedelta(days=6), customer=customer, category=billing)
    beyond = open_case_at(T0 + timedelta(days=20), customer=customer, category=billing)
    assert RepeatLink.objects.filter(case=within).count() == 1
    assert not RepeatLink.objects.filter(case=beyond).exists()
    within.refresh_from_db()
    assert within.severity == 3  # step 0: no raise


def test_repeat_after_broken_promise_is_a_double_deviation_and_emits():
    with hook_recorded(hooks.repeat_failure_detected) as seen:
        customer = CustomerFactory()
        billing = CategoryFactory()
        first = open_case_at(T0, customer=customer, category=billing)
        with time_machine.travel(T0, tick=False):
            promise = CommitmentFactory(case=first)
        Commitment.objects.filter(pk=promise.pk).update(
            status=CommitmentStatus.BROKEN, broken_at=T0 + timedelta(days=2)
        )
        second = open_case_at(T0 + timedelta(days=5), customer=customer, category=billing)
    second.refresh_from_db()
    assert second.double_deviation is True
    assert RepeatLink.objects.get(case=second).broken_promise is True
    assert CaseInsight.objects.get(case=second).double_deviation is True
    assert seen[-1].case_id == second.pk
    assert seen[-1].earlier_case_ids == (first.pk,)
    assert seen[-1].double_deviation is True
    assert second.events.filter(data__cause="repeat_after_broken_promise").exists()


def test_repeat_detect_reads_only_the_customers_cases(django_assert_max_num_queries):
    customer = CustomerFactory()
    for n in range(5):
        open_case_at(T0 + timedelta(days=n), customer=CustomerFactory(), description=f"x{n}")
    open_case_at(T0, customer=customer, description="Parcel lost")
    from amends.insight.services.repeats import repeat_detect

    new = open_case_at(T0 + timedelta(days=1), customer=customer, description="Invoice")
    RepeatLink.objects.filter(case=new).delete()
    with django_assert_max_num_queries(3):
        assert repeat_detect(case=new) == []


@pytest.mark.parametrize(
    ("a", "b", "similar"),
    [
        ("broadband drops every evening", "my broadband drops in the evening", True),
        ("parcel never arrived", "charged twice on my card", False),
        ("", "anything", False),
    ],
)
def test_text_similarity(a, b, similar):
    assert (text_similarity(a, b) >= 0.35) is similar
