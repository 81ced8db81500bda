"""Property-based: any text gives a sane score and a sane coaching report, never an error."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from amends.insight.apology import apology_check
from amends.insight.scoring import text_analyse

TEXT = st.text(max_size=3000) | st.from_regex(r"[A-Z!? ]{0,200}", fullmatch=True)


@settings(max_examples=150, deadline=None)
@given(TEXT)
def test_text_analyse_any_text_is_sane(text):
    result = text_analyse(text)
    assert 0.0 <= result.intensity <= 1.0
    assert result.labels
    assert not (result.upset and not result.enough_text)
    assert all(p.text for p in result.phrases)


@settings(max_examples=100, deadline=None)
@given(TEXT, TEXT)
def test_apology_check_any_text_is_sane(draft, customer_text):
    report = apology_check(draft, customer_text)
    assert report.passes is (not report.findings)
    assert all(f.code and f.message and f.suggestion for f in report.findings)
