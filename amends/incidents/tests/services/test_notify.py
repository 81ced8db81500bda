from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings
from django.utils import timezone

from amends.cases.models import Case
from amends.channels.models import OutboundEmail
from amends.channels.services.outbound import email_queue_bulk, outbound_send_due
from amends.core.exceptions import ApplicationError
from amends.incidents.choices import IncidentStatus, RoundKind, RoundStatus
from amends.incidents.models import Impact, Incident, NotificationRound
from amends.incidents.services import notify
from amends.incidents.services.impacts import AffectedRow, impacts_add
from amends.incidents.services.incidents import incident_status_set, incident_update_post
from amends.incidents.services.links import impact_token
from amends.incidents.services.notify import (
    round_preview,
    round_process,
    round_progress,
    round_run_to_end,
    round_start,
)
from amends.incidents.tests.conftest import Ops
from amends.incidents.tests.factories import customers_make

pytestmark = pytest.mark.django_db


class Inbox:
    def __init__(self) -> None:
        self.rcpts: list[str] = []
        self.bodies: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.rcpts.extend(envelope.rcpt_tos)
        self.bodies.append(envelope.content.decode())
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
        ):
            yield inbox
    finally:
        controller.stop()


def _affected(ops: Ops, count: int, **inputs: Any) -> None:
    customers = customers_make(count)
    impacts_add(
        incident=ops.incident,
        rows=[AffectedRow(external_ref=c.external_ref or "", inputs=inputs) for c in customers],
        actor=ops.analyst,
    )


def _send_all() -> int:
    total = 0
    while True:
        sent = outbound_send_due(now=timezone.now(), limit=500)
        total += sent
        if sent == 0:
            return total


def test_round_killed_half_way_resumes_and_mails_each_customer_exactly_once(
    ops: Ops, smtp: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    _affected(ops, 40, distance_km=800, intra_eu=True)
    notice = round_start(incident=ops.incident, kind=RoundKind.INITIAL, actor=ops.analyst)
    assert round_process(notice=notice, limit=15) == 15
    # The worker dies in the middle of the next batch, after its emails went into the outbox.
    real = email_queue_bulk

    def dying(**kwargs: Any) -> Any:
        real(**kwargs)
        assert OutboundEmail.objects.count() == 30
        raise RuntimeError("worker killed")

    monkeypatch.setattr(notify, "email_queue_bulk", dying)
    with pytest.raises(RuntimeError):
        round_process(notice=notice, limit=15)
    monkeypatch.setattr(notify, "email_queue_bulk", real)
    assert OutboundEmail.objects.count() == 15  # the dead batch left nothing behind
    assert _send_all() == 15
    # A second worker resumes where the last committed batch stopped.
    assert round_run_to_end(notice=notice, limit=15) == 25
    assert _send_all() == 25
    counts = Counter(smtp.rcpts)
    assert len(counts) == 40
    assert set(counts.values()) == {1}
    notice.refresh_from_db()
    assert (notice.status, notice.sent) == (RoundStatus.DONE, 40)
    assert Impact.objects.filter(notified_at__isnull=False).count() == 40


def test_round_never_mails_a_customer_twice_even_if_their_mark_is_lost(ops: Ops) -> None:
    _affected(ops, 3, distance_km=800, intra_eu=True)
    notice = round_start(incident=ops.incident, kind=RoundKind.INITIAL, actor=ops.analyst)
    round_run_to_end(notice=notice)
    # As if the impact rows had not recorded the round (restored backup, manual edit).
    Impact.objects.update(notified_round=0)
    NotificationRound.objects.filter(pk=notice.pk).update(status=RoundStatus.RUNNING)
    round_run_to_end(notice=notice)
    assert OutboundEmail.objects.count() == 3


def test_first_round_mails_each_customer_their_own_link_and_opens_no_case(ops: Ops) -> None:
    _affected(ops, 1, distance_km=800, intra_eu=True, overnight=True)
    notice = round_start(incident=ops.incident, kind=RoundKind.INITIAL, actor=ops.analyst)
    round_run_to_end(notice=notice)
    impact = Impact.objects.get()
    email = OutboundEmail.objects.get()
    assert f"/i/{impact_token(impact_id=impact.pk)}/" in email.body
    assert "Compensation, flights up to 1,500 km (250.00 EUR)" in email.body
    assert "Hotel and transfer for an overnight delay: yours, whatever you choose" in email.body
    assert email.dedupe_key == (
        f"incident:{ops.incident.pk}:round:{notice.pk}:customer:{impact.customer_id}"
    )
    assert impact.case is None
    assert not Case.objects.exists()


def test_a_linked_complaint_gets_the_notice_recorded_on_its_case(ops: Ops) -> None:
    from amends.cases.tests.factories import CaseFactory
    from amends.incidents.services.impacts import incident_link_cases

    case = CaseFactory(team=ops.team)
    incident_link_cases(incident=ops.incident, case_ids=[case.pk], actor=ops.analyst)
    round_run_to_end(
        notice=round_start(incident=ops.incident, kind=RoundKind.INITIAL, actor=ops.analyst)
    )
    assert case.events.filter(kind="incident_notice_sent").count() == 1
    assert OutboundEmail.objects.get().case_id == case.pk


def test_later_rounds_are_separate_and_reuse_the_case(ops: Ops) -> None:
    _affected(ops, 2, distance_km=800, intra_eu=True)
    first = round_start(incident=ops.incident, kind=RoundKind.INITIAL, actor=ops.analyst)
    round_run_to_end(notice=first)
    incident_update_post(
        incident=ops.incident, body="The aircraft is repaired.", public=True, actor=ops.analyst
    )
    incident_status_set(incident=ops.incident, status=IncidentStatus.RESOLVED, actor=ops.analyst)
    second = round_start(incident=ops.incident, kind=RoundKind.RESOLVED, actor=ops.analyst)
    round_run_to_end(notice=second)
    assert OutboundEmail.objects.count() == 4
    resolved = OutboundEmail.objects.filter(subject__contains="resolved")
    assert resolved.count() == 2
    assert all("The aircraft is repaired." in e.body for e in resolved)
    assert round_progress(notice=second)["done"] == 2


def test_round_start_refusals(ops: Ops) -> None:
    with pytest.raises(ApplicationError) as err:
        round_start(incident=ops.incident, kind=RoundKind.INITIAL, actor=ops.analyst)
    assert err.value.code == "no_customers"
    _affected(ops, 1)
    with pytest.raises(ApplicationError) as err:
        round_start(incident=ops.incident, kind=RoundKind.UPDATE, actor=ops.analyst)
    assert err.value.code == "no_first_round"
    round_start(incident=ops.incident, kind=RoundKind.INITIAL, actor=ops.analyst)
    with pytest.raises(ApplicationError) as err:
        round_start(incident=ops.incident, kind=RoundKind.UPDATE, actor=ops.analyst)
    assert err.value.code == "round_running"
    with pytest.raises(ApplicationError) as err:
        round_start(
            incident=ops.incident, kind=RoundKind.INITIAL, actor=ops.analyst, body="Hi {nme}"
        )
    assert err.value.code == "invalid_template"
    assert "{nme}" in err.value.message


def test_notifying_a_closed_incident_is_refused(ops: Ops) -> None:
    from amends.taxonomy.models import RootCause

    _affected(ops, 1)
    Incident.objects.filter(pk=ops.incident.pk).update(
        status=IncidentStatus.CLOSED,
        root_cause=RootCause.objects.create(name="Engine"),
        closed_at=timezone.now(),
    )
    with pytest.raises(ApplicationError) as err:
        round_start(incident=ops.incident, kind=RoundKind.INITIAL, actor=ops.analyst)
    assert err.value.code == "incident_closed"
    assert not NotificationRound.objects.exists()


def test_round_preview_fills_the_template_for_the_first_customer(ops: Ops) -> None:
    _affected(ops, 2, distance_km=3000, intra_eu=False)
    preview = round_preview(incident=ops.incident, kind=RoundKind.INITIAL)
    assert "Passenger 0" in preview.body
    assert "400.00 EUR" in preview.body
    assert preview.customers == 2
    assert "{" not in preview.subject
    assert not OutboundEmail.objects.exists()


def test_customer_without_address_is_covered_but_not_mailed(ops: Ops) -> None:
    customers = customers_make(1, email=False)
    impacts_add(
        incident=ops.incident,
        rows=[AffectedRow(external_ref=customers[0].external_ref or "")],
        actor=ops.analyst,
    )
    notice = round_start(incident=ops.incident, kind=RoundKind.INITIAL, actor=ops.analyst)
    round_run_to_end(notice=notice)
    notice.refresh_from_db()
    assert (notice.status, notice.sent) == (RoundStatus.DONE, 0)
    assert not OutboundEmail.objects.exists()


def test_resolved_round_asks_for_a_recovery_survey_on_each_linked_case(ops: Ops) -> None:
    from amends.cases.tests.factories import CaseFactory
    from amends.core import hooks
    from amends.core.testing import hook_recorded
    from amends.incidents.services.impacts import incident_link_cases

    with hook_recorded(hooks.survey_requested) as asked:
        case = CaseFactory(team=ops.team)
        incident_link_cases(incident=ops.incident, case_ids=[case.pk], actor=ops.analyst)
        _affected(ops, 1, distance_km=800, intra_eu=True)  # no case: nothing to survey
        # The first round tells customers; it asks nothing
        round_run_to_end(
            notice=round_start(incident=ops.incident, kind=RoundKind.INITIAL, actor=ops.analyst)
        )
        assert asked == []
        # The resolved round ends the recovery: the linked case is surveyed, once
        incident_status_set(
            incident=ops.incident, status=IncidentStatus.RESOLVED, actor=ops.analyst
        )
        round_run_to_end(
            notice=round_start(incident=ops.incident, kind=RoundKind.RESOLVED, actor=ops.analyst)
        )
    assert asked == [
        hooks.SurveyRequested(
            case_id=case.pk, reason="incident_recovery", incident_id=ops.incident.pk
        )
    ]
