"""The built-in scorer: rules on realistic complaint sentences, and bad input."""

from __future__ import annotations

import time

import pytest

from amends.insight.scoring import MAX_SCORED_CHARS, text_analyse, text_clean


@pytest.mark.parametrize(
    ("text", "upset", "churn", "threat", "labels"),
    [
        (
            "I am going to cancel my account and switch provider, this is the third outage.",
            True,
            True,
            False,
            None,
        ),
        (
            "If this is not sorted by Friday I will take this to the ombudsman.",
            True,
            False,
            True,
            None,
        ),
        ("My lawyer will be in touch about the damage to my kitchen.", True, False, True, None),
        ("I will post this all over social media tonight.", True, False, True, None),
        (
            "Still not fixed after two weeks and nobody calls me back. Absolutely fed up.",
            True,
            False,
            False,
            {"frustration"},
        ),
        ("I am FURIOUS. THIS IS COMPLETELY UNACCEPTABLE!!!", True, False, False, {"anger"}),
        (
            "I'm really worried, the payment left my account twice and rent is due tomorrow.",
            True,
            False,
            False,
            {"anxiety"},
        ),
        (
            "Thank you so much, the engineer was brilliant and fixed it quickly.",
            False,
            False,
            False,
            {"positive"},
        ),
        ("Could you tell me when my next bill is due?", False, False, False, {"neutral"}),
        (
            "My contract ends next month and I'm looking for another provider.",
            True,
            True,
            False,
            None,
        ),
    ],
)
def test_text_analyse_reads_complaint_rules(text, upset, churn, threat, labels):
    result = text_analyse(text)
    assert result.upset is upset, result
    assert result.churn_intent is churn, result
    assert result.escalation_threat is threat, result
    if labels is not None:
        assert labels <= set(result.labels), result
    assert 0.0 <= result.intensity <= 1.0


def test_text_analyse_reports_the_phrases_that_fired():
    result = text_analyse("This is the third time!!! I will cancel my contract and call my lawyer.")
    signals = {(p.signal, p.text.lower()) for p in result.phrases}
    assert ("churn_intent", "cancel my contract") in signals
    assert ("escalation_threat", "my lawyer") in signals
    assert ("repeat", "third time") in signals
    assert ("punctuation", "!!!") in signals


def test_text_analyse_negation_lowers_intensity():
    angry = text_analyse("The service was terrible and the staff were rude.")
    negated = text_analyse("The service was not terrible and the staff were not rude.")
    assert negated.intensity < angry.intensity


def test_text_analyse_capitals_and_punctuation_raise_intensity():
    calm = text_analyse("my flight was delayed again and nobody told us")
    shouted = text_analyse("MY FLIGHT WAS DELAYED AGAIN AND NOBODY TOLD US!!!")
    assert shouted.intensity > calm.intensity
    assert any(p.signal == "capitals" for p in shouted.phrases)


@pytest.mark.parametrize("text", ["", "   ", "😡😡😡", "🙂", "?!", "\x00\x00"])
def test_text_analyse_not_enough_text(text):
    result = text_analyse(text)
    assert result.enough_text is False
    assert result.upset is False
    assert result.intensity <= 0.2


def test_text_analyse_strips_html():
    result = text_analyse("<p>I will <b>cancel my account</b></p><script>alert('x')</script>")
    assert result.churn_intent is True
    assert all("script" not in p.text for p in result.phrases)


def test_text_analyse_non_english_is_sane():
    result = text_analyse("Je suis très content du service, merci beaucoup à toute l'équipe.")
    assert result.upset is False
    assert result.enough_text is True


def test_text_analyse_one_megabyte_is_bounded():
    text = ("Nobody has fixed my broadband. " * 40_000)[:1_000_000]
    started = time.perf_counter()
    result = text_analyse(text)
    assert time.perf_counter() - started < 2.0
    assert result.upset is True
    assert len(text_clean(text)) <= MAX_SCORED_CHARS + 5


def test_text_analyse_one_megabyte_of_markup_is_bounded():
    text = "<div>" * 200_000
    started = time.perf_counter()
    result = text_analyse(text)
    assert time.perf_counter() - started < 2.0
    assert result.enough_text is False
