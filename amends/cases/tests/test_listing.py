from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.listing import COUNT_CAP, case_count, case_list_search
from amends.cases.models import Case
from amends.cases.search import search_index_rebuild, search_terms, search_triggers_install
from amends.cases.selectors import CaseFilters
from amends.cases.services.workflow import case_update
from amends.cases.tests.factories import CaseFactory
from amends.core.exceptions import ApplicationError
from amends.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager() -> Any:
    return UserFactory(role=Role.MANAGER)


def refs(qs: Any) -> list[str]:
    return [c.ref for c in qs]


def test_search_terms_drop_operators_and_punctuation() -> None:
    assert (
        search_terms('"walsh" OR (broad*) -x NEAR/2 a@b.com')
        == [
            "walsh",
            "or",
            "broad",
            "x",
            "near",
            "2",
            "a",
            "b",
        ][:8]
    )
    assert search_terms("  ***  ") == []
    assert len(search_terms("a " * 50)) == 8


def test_case_list_search_finds_customer_name_inside_the_name(manager: Any) -> None:
    walsh = CaseFactory(customer=CustomerFactory(name="Poppy Walsh"), title="No dial tone")
    CaseFactory(customer=CustomerFactory(name="Ada Lee"), title="No dial tone")
    assert refs(case_list_search(user=manager, text="walsh")) == [walsh.ref]
    assert refs(case_list_search(user=manager, text="WALS")) == [walsh.ref]  # prefix


def test_case_list_search_matches_reference_email_phone_title_and_text(manager: Any) -> None:
    customer = CustomerFactory(
        name="Ravi Shah", email="ravi.shah@example.org", phone="+44 7700 900123"
    )
    case = CaseFactory(
        customer=customer, title="Double charge on invoice", description="Charged twice in May"
    )
    other = CaseFactory(title="Broadband outage", description="Line dead")
    for text in (
        case.ref,
        case.ref.lower(),
        "ravi.shah@example.org",
        "447700900123",
        "7700 900123",
        "double invoice",
        "twice may",
    ):
        assert refs(case_list_search(user=manager, text=text)) == [case.ref], text
    assert refs(case_list_search(user=manager, text="broadband dead")) == [other.ref]
    assert refs(case_list_search(user=manager, text="broad dead")) == []  # only the last word
    assert refs(case_list_search(user=manager, text="dead broad")) == [other.ref]
    assert refs(case_list_search(user=manager, text="broadband twice")) == []


def test_case_list_search_ranks_title_above_description(manager: Any) -> None:
    in_text = CaseFactory(title="Billing question", description="The router keeps dropping")
    in_title = CaseFactory(title="Router keeps dropping", description="Since Monday")
    assert refs(case_list_search(user=manager, text="router")) == [in_title.ref, in_text.ref]


def test_case_list_search_shows_only_what_the_list_would(manager: Any) -> None:
    billing, network = TeamFactory(name="Billing"), TeamFactory(name="Network")
    agent = UserFactory(role=Role.AGENT, team=billing)
    seen = CaseFactory(team=billing, title="Outage in Leeds")
    hidden = CaseFactory(team=network, title="Outage in York")
    assert refs(case_list_search(user=agent, text="outage")) == [seen.ref]
    assert set(refs(case_list_search(user=manager, text="outage"))) == {seen.ref, hidden.ref}
    filtered = case_list_search(
        user=manager, text="outage", filters=CaseFilters(team_id=network.pk)
    )
    assert refs(filtered) == [hidden.ref]


def test_case_list_search_follows_edits_of_the_case_and_the_customer(manager: Any) -> None:
    customer = CustomerFactory(name="Old Name")
    case = CaseFactory(customer=customer, title="Wrong bill")
    case_update(case=case, version=None, actor=manager, title="Missing parcel")
    assert refs(case_list_search(user=manager, text="parcel")) == [case.ref]
    assert refs(case_list_search(user=manager, text="wrong")) == []
    customer.name = "Grace Hopper"
    customer.save(update_fields=["name"])
    assert refs(case_list_search(user=manager, text="hopper")) == [case.ref]
    assert refs(case_list_search(user=manager, text="old name")) == []


def test_case_list_search_forgets_deleted_cases(manager: Any) -> None:
    case = CaseFactory(title="Gone soon")
    case_id = case.pk
    # Raw, as a purge would; rolled back so other apps' rows keep their case.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_case WHERE id = %s", [case_id])
        cursor.execute("SELECT count(*) FROM cases_casesearch WHERE rowid = %s", [case_id])
        remaining = cursor.fetchone()[0]
        transaction.set_rollback(True)
    assert remaining == 0


def test_case_list_search_sorts_by_a_chosen_column(manager: Any) -> None:
    low = CaseFactory(title="Outage A", severity=4)
    high = CaseFactory(title="Outage B", severity=1)
    assert refs(case_list_search(user=manager, text="outage", sort="severity")) == [
        high.ref,
        low.ref,
    ]
    assert refs(case_list_search(user=manager, text="outage", sort="-severity")) == [
        low.ref,
        high.ref,
    ]
    assert refs(case_list_search(user=manager, sort="newest")) == [high.ref, low.ref]


@pytest.mark.parametrize(
    ("text", "sort", "code"),
    [("x" * 201, None, "invalid_filter"), ("x", "title; drop table", "invalid_filter")],
)
def test_case_list_search_refuses_bad_input(manager: Any, text: str, sort: Any, code: str) -> None:
    with pytest.raises(ApplicationError) as info:
        case_list_search(user=manager, text=text, sort=sort)
    assert info.value.code == code
    assert info.value.status == 422


def test_case_list_search_with_only_punctuation_finds_nothing(manager: Any) -> None:
    CaseFactory(title="Anything")
    assert list(case_list_search(user=manager, text='"*-()')) == []
    assert list(case_list_search(user=manager, text="\x00")) == []


def test_search_triggers_install_rebuilds_a_missing_index(manager: Any) -> None:
    case = CaseFactory(title="Rebuilt entry")
    assert search_triggers_install(connection) is False  # already there: nothing to do
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_casesearch")
    assert refs(case_list_search(user=manager, text="rebuilt")) == []
    search_index_rebuild(connection)
    assert refs(case_list_search(user=manager, text="rebuilt")) == [case.ref]


def test_case_count_is_exact_below_the_cap_and_capped_above(manager: Any) -> None:
    CaseFactory.create_batch(3)
    total = case_count(Case.objects.all())
    assert (total.count, total.capped, str(total)) == (3, False, "3")
    capped = case_count(Case.objects.all(), cap=2)
    assert (capped.count, capped.capped, str(capped)) == (2, True, "more than 2")
    assert str(case_count(Case.objects.all(), cap=COUNT_CAP)) == "3"


def test_case_list_search_by_reference_is_that_case_if_visible(manager: Any) -> None:
    billing, network = TeamFactory(name="Billing"), TeamFactory(name="Network")
    agent = UserFactory(role=Role.AGENT, team=billing)
    case = CaseFactory(team=network, title="Hidden from billing")
    CaseFactory(team=network, title=f"Mentions {case.ref} in the title")
    for text in (case.ref, case.ref.lower(), f" am-{case.pk} "):
        assert refs(case_list_search(user=manager, text=text)) == [case.ref], text
        assert refs(case_list_search(user=agent, text=text)) == [], text


def test_case_list_search_looks_at_the_newest_matches_only(manager: Any, monkeypatch: Any) -> None:
    import amends.cases.search

    monkeypatch.setattr(amends.cases.search, "SEARCH_WINDOW", 2)
    oldest, middle, newest = (CaseFactory(title="Router fault") for _ in range(3))
    assert refs(case_list_search(user=manager, text="router")) == [newest.ref, middle.ref]
    assert oldest.ref not in refs(case_list_search(user=manager, text="router", sort="oldest"))


def test_case_list_search_by_a_short_start_of_a_word(manager: Any) -> None:
    walsh = CaseFactory(customer=CustomerFactory(name="Poppy Walsh"), title="No dial tone")
    CaseFactory(customer=CustomerFactory(name="Ada Lee"), title="Wrong tariff")
    for text in ("wa", "Wal", "poppy wa", "no di"):
        assert refs(case_list_search(user=manager, text=text)) == [walsh.ref], text
    assert refs(case_list_search(user=manager, text="lee wa")) == []  # every word must match


@pytest.mark.skipif(connection.vendor != "sqlite", reason="FTS5's prefix index")
def test_sqlite_search_index_keeps_two_and_three_letter_prefixes() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'cases_casesearch'")
        (sql,) = cursor.fetchone()
    assert "prefix = '2 3'" in sql


def test_case_list_search_ranks_within_the_newest_matches(manager: Any, monkeypatch: Any) -> None:
    import amends.cases.search

    monkeypatch.setattr(amends.cases.search, "SEARCH_WINDOW", 2)
    CaseFactory(title="Router fault")  # a title match, but older than the window
    in_title = CaseFactory(title="Router fault")  # the oldest case in the window
    in_text = CaseFactory(title="Billing question", description="The router is dead")
    assert refs(case_list_search(user=manager, text="router")) == [in_title.ref, in_text.ref]
    assert refs(case_list_search(user=manager, text="rout")) == [in_title.ref, in_text.ref]


def test_case_list_search_by_a_customers_email_is_that_customers_visible_cases(
    django_assert_max_num_queries: Any,
) -> None:
    team, other_team = TeamFactory(), TeamFactory()
    agent = UserFactory(role=Role.AGENT, team=team)
    ravi = CustomerFactory(name="Ravi Shah", email="ravi.shah@example.org")
    mine = CaseFactory(customer=ravi, team=team, title="Double charge")
    older = CaseFactory(customer=ravi, team=team, title="Late refund")
    CaseFactory(customer=ravi, team=other_team, title="Not visible to the agent")
    CaseFactory(customer=CustomerFactory(email="ada.shah@example.org"), team=team)
    with django_assert_max_num_queries(3):  # the customer's cases, then the page
        found = refs(case_list_search(user=agent, text="Ravi.Shah@example.org"))
    assert found == [older.ref, mine.ref]  # newest first: the same rank for all
    # An address no customer has is looked up in the index of words, as before.
    assert refs(case_list_search(user=agent, text="nobody@example.org")) == []
