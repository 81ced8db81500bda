from __future__ import annotations

import pytest

from amends.commitments.models import Notification
from amends.core.exceptions import ApplicationError
from amends.feedback.models import Compliment
from amends.feedback.services.compliments import compliment_log
from amends.feedback.services.surveys import survey_answer
from amends.feedback.tests.factories import Org, sent_survey

pytestmark = pytest.mark.django_db


def test_compliment_from_a_survey_reaches_the_staff_member(org: Org) -> None:
    _survey, token = sent_survey(org)
    survey_answer(token=token, csat=5, compliment="Alex was wonderful")
    compliment = Compliment.objects.get()
    assert (compliment.staff, compliment.team, compliment.source) == (org.agent, org.team, "survey")
    note = Notification.objects.get(recipient=org.agent, kind="compliment")
    assert "Alex was wonderful" in note.message
    assert note.url == "/people/alex/"


def test_compliment_log_by_staff_and_bad_text_refused(org: Org) -> None:
    compliment_log(staff=org.agent, text="Letter of thanks", channel="letter", actor=org.colleague)
    assert Compliment.objects.filter(source="logged", logged_by=org.colleague).count() == 1
    with pytest.raises(ApplicationError):
        compliment_log(staff=org.agent, text=" ", actor=org.colleague)
    with pytest.raises(ApplicationError):
        compliment_log(staff=org.agent, text="a\x00b", actor=org.colleague)
    assert Compliment.objects.count() == 1
