from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.test import override_settings

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.commitments.models import Notification
from amends.commitments.sweeps import commitment_sweep
from amends.commitments.tasks import notifications_email_send
from amends.commitments.tests.factories import CommitmentFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  # aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode()))
        return "250 OK"


@pytest.fixture
def smtp():
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


def test_notifications_email_send_delivers_each_notification_once_over_smtp(
    smtp, django_capture_on_commit_callbacks
) -> None:
    team = TeamFactory()
    supervisor = UserFactory(role=Role.SUPERVISOR, team=team, email="sup@example.com")
    agent = UserFactory(team=team, email="agent@example.com")
    with time_machine.travel(NOW, tick=False):
        CommitmentFactory(owner=agent, due_at=NOW + timedelta(minutes=5))
    later = NOW + timedelta(minutes=10)
    with time_machine.travel(later, tick=False):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            commitment_sweep(now=later)
        assert callbacks  # the email task was enqueued on commit
        # Running the task again (a second worker, a retry) sends nothing more.
        assert notifications_email_send.call() == 0
    broken = [m for m in smtp.messages if "broken" in m[1]]
    assert sorted(m[0][0] for m in broken) == ["agent@example.com", "sup@example.com"]
    assert Notification.objects.filter(emailed_at__isnull=True, recipient=supervisor).count() == 0


def test_notifications_email_send_releases_claim_when_smtp_fails() -> None:
    agent = UserFactory(email="agent@example.com")
    Notification.objects.create(recipient=agent, kind="sla_at_risk", message="x", dedupe_key="k")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    with (
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=closed_port,
            EMAIL_TIMEOUT=2,
        ),
        pytest.raises(ConnectionRefusedError),
    ):
        notifications_email_send.call()
    assert Notification.objects.get().emailed_at is None


def test_worker_sweep_round_retries_email_left_unsent(mailoutbox, monkeypatch) -> None:
    from amends.core.management.commands import worker
    from amends.core.management.commands.worker import _run_sweeps

    # The worker drops stale connections between rounds; not the test's own connection.
    monkeypatch.setattr(worker, "close_old_connections", lambda: None)

    agent = UserFactory(email="agent@example.com")
    # Created while the mail server was down: the task enqueued then failed and released it.
    Notification.objects.create(recipient=agent, kind="sla_at_risk", message="x", dedupe_key="k")
    _run_sweeps()
    assert [m.to for m in mailoutbox] == [["agent@example.com"]]
    assert Notification.objects.get().emailed_at is not None
    _run_sweeps()
    assert len(mailoutbox) == 1  # sent once
