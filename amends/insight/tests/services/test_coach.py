from __future__ import annotations

import pytest

from amends.accounts.tests.factories import UserFactory
from amends.cases.choices import MessageDirection
from amends.cases.services.messages import case_message_add
from amends.insight.choices import CheckKind
from amends.insight.models import ApologyCheck
from amends.insight.services.coach import apology_check_record, customer_text_of
from amends.insight.tests.factories import UPSET_TEXT, case_with_text, inbound
from amends.insight.tests.test_apology import GOOD

pytestmark = pytest.mark.django_db


def test_apology_check_record_uses_the_latest_customer_message():
    case = case_with_text("Please check my bill.")
    inbound(case, UPSET_TEXT)
    assert customer_text_of(case=case) == UPSET_TEXT
    report, check = apology_check_record(
        case=case, author=UserFactory(), draft="Thanks, we will look."
    )
    assert report.customer_upset is True
    assert "no_apology" in check.codes
    assert check.passes is False


def test_first_draft_is_the_first_check_since_the_last_reply_sent():
    agent = UserFactory()
    case = case_with_text(UPSET_TEXT)
    _, first = apology_check_record(case=case, author=agent, draft="Sorry for any inconvenience.")
    _, second = apology_check_record(case=case, author=agent, draft=GOOD)
    assert first.first_draft is True
    assert second.first_draft is False
    assert second.passes is True
    # sending records a check (kind send) and the next reply starts a new first draft
    case_message_add(case=case, direction=MessageDirection.OUTBOUND, body=GOOD, actor=agent)
    sent = ApologyCheck.objects.filter(case=case, kind=CheckKind.SEND).get()
    assert sent.author == agent
    _, next_reply = apology_check_record(case=case, author=agent, draft=GOOD)
    assert next_reply.first_draft is True


def test_internal_notes_are_not_checked():
    case = case_with_text(UPSET_TEXT)
    case_message_add(case=case, direction=MessageDirection.INTERNAL, body="call back", actor=None)
    assert not ApologyCheck.objects.filter(case=case).exists()
