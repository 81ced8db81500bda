"""Policy tables: magnitude × distance × tier × notice × version, EU261 worked through."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from amends.incidents.eu261 import eu261_rules
from amends.incidents.rules import RuleError, budget_apply, evaluate, rules_check

DELAY = rules_check(eu261_rules())
CANCELLATION = rules_check(eu261_rules(cancellation=True))


def _given(rules: list[dict[str, Any]], **inputs: Any) -> dict[str, list[tuple[str, str | None]]]:
    out: dict[str, list[tuple[str, str | None]]] = {}
    for line in evaluate(rules, {"tier": "standard", **inputs}):
        out.setdefault(line.status, []).append((line.remedy, line.amount))
    return out


@pytest.mark.parametrize(
    ("magnitude", "distance", "intra_eu", "compensation"),
    [
        (179, 800, True, None),  # under 3 hours: nothing due
        (180, 800, True, "250.00"),
        (180, 1500, False, "250.00"),  # "up to 1,500 km" includes 1,500
        (240, 1501, True, "400.00"),  # intra-EU over 1,500 km
        (240, 5000, True, "400.00"),  # intra-EU never reaches the third band
        (240, 3500, False, "400.00"),
        (240, 3501, False, "600.00"),
        (600, 9000, False, "600.00"),
    ],
)
def test_eu261_delay_compensation_by_band(
    magnitude: int, distance: int, intra_eu: bool, compensation: str | None
) -> None:
    got = _given(DELAY, magnitude=magnitude, distance_km=distance, intra_eu=intra_eu)
    options = got.get("option", [])
    if compensation is None:
        assert options == []
    else:
        voucher = str((Decimal(compensation) * Decimal("1.2")).quantize(Decimal("0.01")))
        assert options == [("compensation", compensation), ("voucher", voucher)]


@pytest.mark.parametrize(
    ("magnitude", "distance", "intra_eu", "meals"),
    [
        (119, 1000, True, False),
        (120, 1000, True, True),  # 2 hours, short band
        (179, 2000, True, False),
        (180, 2000, True, True),  # 3 hours, middle band
        (180, 2000, False, True),
        (239, 4000, False, False),
        (240, 4000, False, True),  # 4 hours, long band
    ],
)
def test_eu261_meals_owed_from_two_three_four_hours(
    magnitude: int, distance: int, intra_eu: bool, meals: bool
) -> None:
    got = _given(DELAY, magnitude=magnitude, distance_km=distance, intra_eu=intra_eu)
    assert (("meals", None) in got.get("owed", [])) is meals


def test_eu261_hotel_owed_overnight_whatever_the_distance() -> None:
    assert ("hotel", None) in _given(DELAY, magnitude=30, overnight=True)["owed"]
    assert ("hotel", None) not in _given(DELAY, magnitude=600, overnight=False).get("owed", [])


@pytest.mark.parametrize(
    ("distance", "intra_eu", "reroute", "amount"),
    [
        (1000, True, 120, "125.00"),  # short band: within 2 hours halves
        (1000, True, 121, "250.00"),
        (2000, True, 180, "200.00"),  # middle band: within 3 hours
        (3000, False, 181, "400.00"),
        (4000, False, 240, "300.00"),  # long band: within 4 hours
        (4000, False, 241, "600.00"),
    ],
)
def test_eu261_cancellation_halved_when_rerouting_arrives_close(
    distance: int, intra_eu: bool, reroute: int, amount: str
) -> None:
    got = _given(
        CANCELLATION,
        magnitude=0,
        distance_km=distance,
        intra_eu=intra_eu,
        reroute_delay_minutes=reroute,
        notice_days=2,
    )
    assert got["option"][0] == ("compensation", amount)


@pytest.mark.parametrize(("notice", "due"), [(13, True), (14, False), (30, False)])
def test_eu261_cancellation_not_due_with_fourteen_days_notice(notice: int, due: bool) -> None:
    got = _given(CANCELLATION, magnitude=0, distance_km=800, intra_eu=True, notice_days=notice)
    assert (("compensation", "250.00") in got.get("option", [])) is due
    assert (("compensation", "250.00") in got.get("exempt", [])) is not due


def test_evaluate_explains_every_line() -> None:
    lines = evaluate(DELAY, {"magnitude": 200, "distance_km": 800, "intra_eu": True})
    short = next(line for line in lines if line.rule == "compensation_short")
    assert short.status == "option"
    assert "distance_km <= 1500: yes (distance_km = 800)" in short.why
    long = next(line for line in lines if line.rule == "compensation_long")
    assert long.status == "not_applicable"
    assert any("no" in w for w in long.why)


def test_missing_input_never_applies_a_rule() -> None:
    got = _given(DELAY, magnitude=400)  # no distance given
    assert got.get("option", []) == []


def test_tier_rule_gives_vip_customers_more() -> None:
    rules = rules_check(
        [
            {
                "code": "std",
                "remedy": "voucher",
                "amount": "10",
                "when": [["tier", "==", "standard"]],
            },
            {"code": "vip", "remedy": "voucher", "amount": "50", "when": [["tier", "==", "vip"]]},
        ]
    )
    assert _given(rules, tier="vip")["option"] == [("voucher", "50.00")]
    assert _given(rules, tier="standard")["option"] == [("voucher", "10.00")]


def test_overlapping_rules_are_refused_with_both_named() -> None:
    with pytest.raises(RuleError) as err:
        rules_check(
            [
                {
                    "code": "a",
                    "remedy": "voucher",
                    "amount": "10",
                    "when": [["magnitude", ">=", 60]],
                },
                {
                    "code": "b",
                    "remedy": "voucher",
                    "amount": "20",
                    "when": [["magnitude", ">=", 120]],
                },
            ]
        )
    assert "'a' and 'b' overlap" in str(err.value)


def test_rules_in_different_slots_may_overlap() -> None:
    rules = rules_check(
        [
            {"code": "a", "remedy": "voucher", "amount": "10", "when": [["magnitude", ">=", 60]]},
            {"code": "b", "remedy": "refund", "amount": "20", "when": [["magnitude", ">=", 120]]},
        ]
    )
    assert len(rules) == 2


def test_contradictory_conditions_are_refused() -> None:
    with pytest.raises(RuleError) as err:
        rules_check(
            [
                {
                    "code": "never",
                    "remedy": "voucher",
                    "amount": "10",
                    "when": [["magnitude", ">", 300], ["magnitude", "<", 100]],
                }
            ]
        )
    assert "contradict" in str(err.value)


@pytest.mark.parametrize(
    "rule",
    [
        {"code": "x", "remedy": "voucher", "amount": "-5"},
        {"code": "x", "remedy": "voucher", "amount": "1e400"},
        {"code": "x", "remedy": "voucher", "when": [["magnitude", "~", 5]]},
        {"code": "x", "remedy": "voucher", "when": [["magnitude", ">", "lots"]]},
        {"code": "x", "remedy": "voucher", "amount": "5", "reduce": {"factor": "2"}},
        {"code": "x", "remedy": "meals", "care": True, "exempt": {"when": []}},
        {"code": "Bad Code", "remedy": "voucher"},
    ],
)
def test_malformed_rules_are_refused(rule: dict[str, Any]) -> None:
    with pytest.raises(RuleError):
        rules_check([rule])


def test_budget_drops_options_the_rest_cannot_cover() -> None:
    lines = evaluate(DELAY, {"magnitude": 200, "distance_km": 800, "intra_eu": True})
    kept, reserved = budget_apply(lines, Decimal("260.00"))
    statuses = {(line.remedy, line.status) for line in kept if line.status != "not_applicable"}
    assert ("compensation", "option") in statuses
    assert ("voucher", "over_budget") in statuses  # 300.00 does not fit
    assert reserved == Decimal("250.00")
    _, unlimited = budget_apply(lines, None)
    assert unlimited == Decimal("300.00")
