"""A customer answers the recovery survey on a phone-sized screen in a real Chromium."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from amends.feedback.choices import SurveyStatus
from amends.feedback.models import Compliment, FollowUp, Survey
from amends.feedback.tests.factories import Org, sent_survey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}


def test_customer_answers_the_survey_on_a_phone(browser: Any, live_server: Any) -> None:
    from playwright.sync_api import expect

    org = Org()
    survey, token = sent_survey(org)
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/survey/{token}/")
        expect(page.get_by_role("heading", name="How did we do?")).to_be_visible()
        # Opening the link records nothing
        survey.refresh_from_db()
        assert survey.status == SurveyStatus.SENT
        # Nothing sideways: the page fits the phone
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        # Score buttons are big enough to tap (44 px)
        box = page.locator("label.scale-option span").first.bounding_box()
        assert box is not None
        assert box["height"] >= 44
        page.locator('label.scale-option:has(input[name="csat"][value="2"])').tap()
        page.locator('label.scale-option:has(input[name="nps"][value="5"])').tap()
        page.locator('label.scale-option:has(input[name="fair_treatment"][value="4"])').tap()
        page.locator('label.scale-option:has(input[name="promises_kept"][value="partly"])').tap()
        page.fill("#comment", "The refund took too long.")
        page.fill("#compliment", "Alex was kind though.")
        folder = Path(os.environ.get("AMENDS_SCREENSHOT_DIR", tempfile.gettempdir()))
        page.screenshot(path=str(folder / "feedback-survey-phone.png"), full_page=True)
        page.get_by_role("button", name="Send my answers").tap()
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    finally:
        context.close()
    survey = Survey.objects.get(pk=survey.pk)
    assert (survey.csat, survey.nps, survey.fair_treatment, survey.promises_kept) == (
        2,
        5,
        4,
        "partly",
    )
    assert Compliment.objects.get(survey=survey).staff == org.agent
    assert FollowUp.objects.get(survey=survey).assignee == org.supervisor
