"""The apology coach on good and bad replies written for these tests."""

from __future__ import annotations

import pytest

from amends.insight.apology import apology_check

UPSET = (
    "This is the third time my broadband has been down this month! Nobody turned up on Monday. "
    "I am furious."
)
GOOD = (
    "I am sorry that your broadband has been down again and that our engineer did not turn up "
    "on Monday. That was our mistake. I have booked an engineer for tomorrow between 8 and 10 am "
    "and I will call you by 5 pm today to confirm. We have changed how visits are confirmed so "
    "that this does not happen again."
)


def test_apology_check_passes_a_complete_reply():
    report = apology_check(GOOD, UPSET)
    assert report.passes, report.findings
    assert report.findings == ()
    assert report.customer_upset is True


@pytest.mark.parametrize(
    ("draft", "code"),
    [
        ("We apologise for any inconvenience caused. " + GOOD, "insincere_apology"),
        ("Sorry for the trouble. " + GOOD, "insincere_apology"),
        ("We apologise if you were inconvenienced. " + GOOD, "conditional_apology"),
        ("I'm sorry you feel that way. " + GOOD, "conditional_apology"),
        (
            "Your engineer visit is now booked for tomorrow at 9 am and I will call you by 5 pm "
            "today. We have changed our checks so that this does not happen again.",
            "no_apology",
        ),
        ("We are sorry for this. We will look into it.", "failure_not_named"),
        (
            "I am sorry your broadband was down and the engineer did not arrive on Monday. I will "
            "call you by 5 pm today. We have changed our checks so this does not happen again.",
            "no_ownership",
        ),
        (
            "I am sorry the engineer missed Monday's visit; that was our mistake. We have changed "
            "our checks so that this does not happen again.",
            "no_next_step",
        ),
        (
            "I am sorry the engineer missed Monday's visit; that was our mistake. I will call you "
            "by 5 pm today with a new date.",
            "no_prevention",
        ),
        ("As you were told, engineers can be late. " + GOOD, "blames_customer"),
        ("You should have checked the booking email. " + GOOD, "blames_customer"),
        (
            "Engineer visits depend on local availability. Our teams cover a wide area. Monday "
            "was a busy day. Visits are booked by a central team. " + GOOD,
            "late_apology",
        ),
    ],
)
def test_apology_check_finds(draft, code):
    report = apology_check(draft, UPSET)
    assert code in report.codes, report.codes
    assert report.passes is False
    finding = next(f for f in report.findings if f.code == code)
    assert finding.message
    assert finding.suggestion


def test_apology_check_calm_question_needs_no_apology():
    report = apology_check(
        "Your next bill is due on the 3rd of May and will be 42.00.",
        "Could you tell me when my next bill is due?",
    )
    assert report.passes, report.codes


@pytest.mark.parametrize("draft", ["", "   ", "🙂🙂", "<p></p>"])
def test_apology_check_empty_draft(draft):
    report = apology_check(draft, UPSET)
    assert report.codes == ["empty_draft"]
    assert report.passes is False


def test_apology_check_huge_draft_is_bounded():
    report = apology_check(GOOD * 5000, UPSET)
    assert report.passes in (True, False)
