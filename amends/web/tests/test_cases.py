from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.choices import CaseStatus, MessageDirection, StepState
from amends.cases.models import Case
from amends.cases.services.messages import case_message_add
from amends.cases.services.workflow import case_acknowledge, case_step_done
from amends.cases.tests.factories import CaseFactory
from amends.customers.choices import CustomerTier
from amends.customers.tests.factories import CustomerFactory
from amends.web.tests.conftest import htmx, queries_of_other_apps

pytestmark = pytest.mark.django_db

# session, user, staff profile, its team (header), case, steps, timeline, the names of the
# people the timeline mentions, messages; who has it open (an update, then an insert on a
# first view), its tags, the others who had it open lately, the canned replies offered; plus
# the remedies/commitments nav and panels.
CASE_PAGE_QUERIES = 14


def _post(client: Client, name: str, case: Case, data: dict[str, Any], **kwargs: Any) -> Any:
    return client.post(reverse(name, kwargs={"ref": case.ref, **kwargs}), data, **htmx())


def _url(name: str, case: Case, **kwargs: Any) -> str:
    return reverse(name, kwargs={"ref": case.ref, **kwargs})


def _ack(case: Case, agent: Any) -> Case:
    return case_acknowledge(case=case, version=case.version, actor=agent)


# ----- the page -------------------------------------------------------------------------------


def test_case_detail_view_shows_the_whole_case(agent_client: Client, case: Case) -> None:
    response = agent_client.get(_url("web:case-detail", case))
    assert response.status_code == 200
    body = response.content.decode()
    assert case.ref in body
    assert "Broadband down for a week" in body
    assert "A working connection" in body  # expected
    assert "No service since Monday" in body  # delivered
    for section in (
        "case-header",
        "case-steps",
        "case-actions",
        "case-timeline",
        "case-conversation",
    ):
        assert f'id="{section}"' in body
    assert 'id="case-version" name="version" value="1"' in body
    assert 'hx-trigger="caseChanged from:body"' in body
    assert ">Acknowledge</button>" in body
    assert ">Resolve</button>" not in body  # not legal for a new case


def test_case_detail_view_accepts_a_ref_without_prefix(agent_client: Client, case: Case) -> None:
    assert agent_client.get(reverse("web:case-detail", args=[str(case.pk)])).status_code == 200


def test_case_detail_view_shows_vip_and_special_handling_banner(
    agent_client: Client, team: Any
) -> None:
    customer = CustomerFactory(
        tier=CustomerTier.VIP, special_handling=True, special_handling_reason="Bereaved"
    )
    case = CaseFactory(team=team, customer=customer)
    body = agent_client.get(_url("web:case-detail", case)).content.decode()
    assert "VIP customer." in body
    assert "Special handling:</strong> Bereaved" in body


def test_case_detail_view_is_404_for_another_teams_case(agent_client: Client) -> None:
    other = CaseFactory(team=TeamFactory(name="Travel"))
    response = agent_client.get(_url("web:case-detail", other))
    assert response.status_code == 404
    assert "not visible to you" in response.content.decode()
    assert other.title not in response.content.decode()
    response = _post(agent_client, "web:case-acknowledge", other, {"version": other.version})
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.status == CaseStatus.NEW


def test_case_detail_view_is_404_for_a_missing_or_malformed_ref(agent_client: Client) -> None:
    assert agent_client.get(reverse("web:case-detail", args=["AM-999999"])).status_code == 404
    assert agent_client.get(reverse("web:case-detail", args=["nonsense"])).status_code == 404


def test_case_detail_view_escapes_user_text(agent: Any, agent_client: Client, team: Any) -> None:
    case = CaseFactory(team=team, title="<script>alert(1)</script>", expected="<b>x</b>")
    case_message_add(
        case=case,
        direction=MessageDirection.INBOUND,
        body="<img src=x onerror=alert(2)>",
        actor=None,
    )
    body = agent_client.get(_url("web:case-detail", case)).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<b>x</b>" not in body
    assert "<img src=x" not in body


def test_case_detail_view_query_count_does_not_grow_with_the_case(
    agent: Any, agent_client: Client, team: Any, django_assert_num_queries: Any
) -> None:
    small = CaseFactory(team=team, assignee=agent)
    big = _ack(CaseFactory(team=team, assignee=agent), agent)
    for step in ("apologise", "empathise", "rectify"):
        big = case_step_done(case=big, step=step, version=big.version, actor=agent, note="ok")
    for n in range(5):
        case_message_add(case=big, direction=MessageDirection.INTERNAL, body=f"n{n}", actor=agent)
    for case in (small, big):
        # A conversation adds one query for its messages' files, however many.
        files = 1 if case.messages.exists() else 0
        expected = CASE_PAGE_QUERIES + files + queries_of_other_apps(agent, case)
        with django_assert_num_queries(expected):
            assert agent_client.get(_url("web:case-detail", case)).status_code == 200


def test_case_panels_view_returns_only_out_of_band_panels(agent_client: Client, case: Case) -> None:
    response = agent_client.get(_url("web:case-panels", case), **htmx())
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert body.count('hx-swap-oob="true"') == 4
    assert 'id="case-conversation"' not in body


# ----- actions --------------------------------------------------------------------------------


def test_case_acknowledge_view_acknowledges_and_triggers_case_changed(
    agent_client: Client, case: Case
) -> None:
    response = _post(agent_client, "web:case-acknowledge", case, {"version": case.version})
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.status == CaseStatus.ACKNOWLEDGED
    assert case.version == 2
    assert "caseWorked" in json.loads(response["HX-Trigger"])
    body = response.content.decode()
    assert "<html" not in body
    assert (
        'id="case-header" class="card case-header" aria-labelledby="case-title" hx-swap-oob="true"'
        in body
    )
    assert 'value="2"' in body
    assert '<div id="flash" hx-swap-oob="innerHTML"></div>' in body


def test_case_acknowledge_view_redirects_a_plain_post_to_the_case(
    agent_client: Client, case: Case
) -> None:
    response = agent_client.post(_url("web:case-acknowledge", case), {"version": case.version})
    assert response.status_code == 302
    assert response["Location"] == _url("web:case-detail", case)
    case.refresh_from_db()
    assert case.status == CaseStatus.ACKNOWLEDGED


def test_case_acknowledge_view_refuses_a_stale_version(
    agent: Any, agent_client: Client, case: Case
) -> None:
    _ack(case, agent)
    response = _post(agent_client, "web:case-acknowledge", case, {"version": 1})
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#flash"
    assert 'data-code="stale_version"' in response.content.decode()


def test_case_acknowledge_view_needs_a_version(agent_client: Client, case: Case) -> None:
    response = _post(agent_client, "web:case-acknowledge", case, {})
    assert response.status_code == 422
    assert 'data-code="invalid_input"' in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW


def test_case_action_views_refuse_get(agent_client: Client, case: Case) -> None:
    assert agent_client.get(_url("web:case-acknowledge", case)).status_code == 405


def test_case_step_done_view_records_the_step_with_note(
    agent: Any, agent_client: Client, case: Case
) -> None:
    case = _ack(case, agent)
    response = _post(
        agent_client,
        "web:case-step-done",
        case,
        {"version": case.version, "note": "Said sorry"},
        step="apologise",
    )
    assert response.status_code == 200
    step = case.steps.get(step="apologise")
    assert step.state == StepState.DONE
    assert step.note == "Said sorry"
    assert step.actor == agent
    assert "Said sorry" in response.content.decode()


def test_case_step_skip_view_needs_a_reason(agent: Any, agent_client: Client, case: Case) -> None:
    case = _ack(case, agent)
    response = _post(
        agent_client,
        "web:case-step-skip",
        case,
        {"version": case.version, "reason": ""},
        step="empathise",
    )
    assert response.status_code == 422
    assert case.steps.get(step="empathise").state == StepState.PENDING
    response = _post(
        agent_client,
        "web:case-step-skip",
        case,
        {"version": case.version, "reason": "Customer asked to keep it short"},
        step="empathise",
    )
    assert response.status_code == 200
    step = case.steps.get(step="empathise")
    assert step.state == StepState.SKIPPED
    assert step.skip_reason == "Customer asked to keep it short"


def test_case_resolve_view_names_the_missing_steps(
    agent: Any, agent_client: Client, case: Case
) -> None:
    case = _ack(case, agent)
    response = _post(
        agent_client, "web:case-resolve", case, {"version": case.version, "outcome": "upheld"}
    )
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#flash"
    body = response.content.decode()
    assert 'data-code="required_steps_pending"' in body
    assert '<li data-step="apologise">Apologise</li>' in body
    # The follow-up comes after the fix: due before closing, not before resolving.
    assert 'data-step="follow_up"' not in body
    case.refresh_from_db()
    assert case.status == CaseStatus.ACKNOWLEDGED


def test_case_resolve_view_resolves_once_steps_are_done(
    agent: Any, agent_client: Client, case: Case
) -> None:
    case = _ack(case, agent)
    for step in ("apologise", "rectify", "follow_up"):
        case = case_step_done(case=case, step=step, version=case.version, actor=agent)
    response = _post(
        agent_client,
        "web:case-resolve",
        case,
        {
            "version": case.version,
            "outcome": "partly_upheld",
            "explanation": "Refunded a month",
            "confirm_undetermined": "on",
        },
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    assert case.outcome == "partly_upheld"
    body = response.content.decode()
    assert ">Resolved</span>" in body
    assert ">Close</button>" in body


def test_case_resolve_view_needs_an_explanation_when_not_upheld(
    agent: Any, agent_client: Client, case: Case
) -> None:
    case = _ack(case, agent)
    response = _post(
        agent_client, "web:case-resolve", case, {"version": case.version, "outcome": "not_upheld"}
    )
    assert response.status_code == 422
    assert 'data-code="explanation_required"' in response.content.decode()


def test_case_resolve_view_asks_to_confirm_an_undetermined_fault(
    agent: Any, agent_client: Client, case: Case
) -> None:
    case = _ack(case, agent)
    for step in ("apologise", "rectify"):
        case = case_step_done(case=case, step=step, version=case.version, actor=agent)
    page = agent_client.get(reverse("web:case-detail", args=[case.ref])).content.decode()
    assert 'name="confirm_undetermined"' in page
    response = _post(
        agent_client, "web:case-resolve", case, {"version": case.version, "outcome": "upheld"}
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert 'data-code="fault_undetermined"' in body
    assert "undetermined" in body
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_RECOVERY
    response = _post(
        agent_client,
        "web:case-resolve",
        case,
        {"version": case.version, "outcome": "upheld", "confirm_undetermined": "on"},
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED


def test_case_await_customer_and_resume_views_pause_and_restart(
    agent: Any, agent_client: Client, case: Case
) -> None:
    case = _ack(case, agent)
    assert (
        _post(agent_client, "web:case-await-customer", case, {"version": case.version}).status_code
        == 200
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_CUSTOMER
    response = _post(agent_client, "web:case-resume", case, {"version": case.version})
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_RECOVERY


def test_case_close_and_reopen_views(agent: Any, agent_client: Client, case: Case) -> None:
    case = _ack(case, agent)
    for step in ("apologise", "rectify", "follow_up"):
        case = case_step_done(case=case, step=step, version=case.version, actor=agent)
    _post(
        agent_client,
        "web:case-resolve",
        case,
        {"version": case.version, "outcome": "upheld", "confirm_undetermined": "on"},
    )
    case.refresh_from_db()
    assert _post(agent_client, "web:case-close", case, {"version": case.version}).status_code == 200
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    response = _post(
        agent_client, "web:case-reopen", case, {"version": case.version, "reason": "Broke again"}
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_RECOVERY
    assert case.events.filter(kind="reopened", data__reason="Broke again").exists()


def test_case_close_view_refuses_an_illegal_transition(agent_client: Client, case: Case) -> None:
    response = _post(agent_client, "web:case-close", case, {"version": case.version})
    assert response.status_code == 409
    assert 'data-code="illegal_transition"' in response.content.decode()


def test_case_assign_view_lets_an_agent_take_a_case(
    agent: Any, agent_client: Client, team: Any
) -> None:
    case = CaseFactory(team=team)
    response = _post(
        agent_client, "web:case-assign", case, {"version": case.version, "assignee": "me"}
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.assignee == agent


def test_case_assign_view_refuses_an_agent_assigning_a_teammate(
    agent_client: Client, team: Any
) -> None:
    teammate = UserFactory(role=Role.AGENT, team=team)
    case = CaseFactory(team=team)
    response = _post(
        agent_client, "web:case-assign", case, {"version": case.version, "assignee": teammate.pk}
    )
    assert response.status_code == 403
    assert 'data-code="forbidden"' in response.content.decode()
    case.refresh_from_db()
    assert case.assignee is None


def test_case_assign_view_lets_a_supervisor_pick_a_teammate(team: Any) -> None:
    supervisor = UserFactory(role=Role.SUPERVISOR, team=team)
    teammate = UserFactory(role=Role.AGENT, team=team, username="bob")
    case = CaseFactory(team=team)
    client = Client()
    client.force_login(supervisor)
    body = client.get(_url("web:case-detail", case)).content.decode()
    assert 'id="assignee-select"' in body
    assert f'value="{teammate.pk}"' in body
    response = _post(
        client, "web:case-assign", case, {"version": case.version, "assignee": teammate.pk}
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.assignee == teammate


def test_case_detail_view_offers_agents_only_to_take_the_case(
    agent_client: Client, team: Any
) -> None:
    case = CaseFactory(team=team)
    body = agent_client.get(_url("web:case-detail", case)).content.decode()
    assert ">Take it</button>" in body
    assert 'id="assignee-select"' not in body


def test_case_update_view_records_fault_and_accounts(
    agent: Any, agent_client: Client, case: Case
) -> None:
    response = _post(
        agent_client,
        "web:case-update",
        case,
        {
            "version": case.version,
            "description": "Down since Monday",
            "expected": "Fibre",
            "delivered": "Nothing",
            "staff_account": "Exchange fault",
            "fault": "third_party",
        },
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.fault == "third_party"
    assert case.staff_account == "Exchange fault"
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="case-account"')
    assert "Third party" in body
    assert case.events.filter(kind="updated").exists()


def test_case_message_add_view_adds_a_note_and_rerenders_the_conversation(
    agent: Any, agent_client: Client, case: Case
) -> None:
    response = _post(
        agent_client,
        "web:case-message-add",
        case,
        {"version": case.version, "direction": "internal", "body": "Called the exchange"},
    )
    assert response.status_code == 200
    message = case.messages.get()
    assert message.direction == MessageDirection.INTERNAL
    assert message.author == agent
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="case-conversation"')
    assert "message-internal" in body
    assert "Called the exchange" in body


def test_case_message_add_view_can_wait_for_the_customer(
    agent: Any, agent_client: Client, case: Case
) -> None:
    case = _ack(case, agent)
    response = _post(
        agent_client,
        "web:case-message-add",
        case,
        {
            "version": case.version,
            "direction": "outbound",
            "body": "Can you send a photo of the router?",
            "awaiting_customer": "on",
        },
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_CUSTOMER
    assert "message-outbound" in response.content.decode()


def test_case_message_add_view_refuses_an_empty_message(agent_client: Client, case: Case) -> None:
    response = _post(
        agent_client,
        "web:case-message-add",
        case,
        {"version": case.version, "direction": "internal", "body": ""},
    )
    assert response.status_code == 422
    assert not case.messages.exists()


def test_case_timeline_reads_as_sentences_with_names(
    agent: Any, agent_client: Client, case: Case
) -> None:
    agent.first_name, agent.last_name = "Ann", "Agent"
    agent.save()
    _ack(case, agent)
    body = agent_client.get(_url("web:case-detail", case)).content.decode()
    assert 'data-kind="acknowledged"' in body
    assert "Ann Agent acknowledged the customer on time" in body
    assert "new → acknowledged" not in body.lower()


def test_a_case_imported_closed_says_its_steps_were_not_tracked(
    agent_client: Client, case: Case
) -> None:
    from django.utils import timezone

    from amends.cases.choices import Outcome

    now = timezone.now()
    case.steps.all().delete()  # as an import writes a case handled before Amends
    Case.objects.filter(pk=case.pk).update(
        status=CaseStatus.CLOSED,
        resolved_at=now,
        closed_at=now,
        outcome=Outcome.UPHELD,
        sla_due_at=None,
        sla_at_risk_at=None,
    )
    body = agent_client.get(_url("web:case-detail", case)).content.decode()
    assert 'id="case-steps-untracked"' in body
    assert "This case has no recovery steps." not in body
    Case.objects.filter(pk=case.pk).update(
        status=CaseStatus.IN_RECOVERY,
        resolved_at=None,
        closed_at=None,
        outcome="",
        sla_due_at=now,
        sla_at_risk_at=now,
    )
    body = agent_client.get(_url("web:case-detail", case)).content.decode()
    assert 'id="case-steps-untracked"' not in body
    assert "This case has no recovery steps." in body
