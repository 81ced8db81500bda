"""EU Regulation 261/2004 as recovery-policy rules: the worked example of the demo and tests.

Inputs per passenger: `distance_km` (great-circle), `intra_eu` (true/false), `notice_days` (for
cancellations), `reroute_delay_minutes` (arrival of the re-routing against the schedule),
`overnight` (true when the delay runs overnight). The incident's `magnitude` is the arrival
delay in minutes (a passenger's own delay overrides it).

- Compensation: 250 EUR up to 1,500 km; 400 EUR intra-EU over 1,500 km and other flights of
  1,500 to 3,500 km; 600 EUR beyond. Due for arrival delays of 3 hours or more and for
  cancellations; halved when the re-routed arrival is within 2/3/4 hours of schedule for the
  three bands; not due for a cancellation notified 14 days or more before departure.
- Care, whatever the cause: meals and refreshments from 2/3/4 hours of delay by band, a hotel
  when the delay runs overnight.
- A travel voucher worth 20% more may be taken instead of money (an airline's own offer, not
  the regulation's).
"""

from __future__ import annotations

from typing import Any

# (code, label, distance conditions, compensation, care and halving threshold in minutes)
BANDS: list[tuple[str, str, list[list[Any]], str, int]] = [
    ("short", "flights up to 1,500 km", [["distance_km", "<=", 1500]], "250.00", 120),
    (
        "medium_eu",
        "intra-EU flights over 1,500 km",
        [["intra_eu", "==", True], ["distance_km", ">", 1500]],
        "400.00",
        180,
    ),
    (
        "medium",
        "other flights of 1,500 to 3,500 km",
        [["intra_eu", "==", False], ["distance_km", ">", 1500], ["distance_km", "<=", 3500]],
        "400.00",
        180,
    ),
    (
        "long",
        "other flights over 3,500 km",
        [["intra_eu", "==", False], ["distance_km", ">", 3500]],
        "600.00",
        240,
    ),
]


def eu261_rules(*, cancellation: bool = False) -> list[dict[str, Any]]:
    """The table for a delay (default) or a cancellation policy."""
    rules: list[dict[str, Any]] = []
    for code, label, distance, amount, minutes in BANDS:
        when = list(distance) if cancellation else [*distance, ["magnitude", ">=", 180]]
        rule: dict[str, Any] = {
            "code": f"compensation_{code}",
            "label": f"Compensation, {label}",
            "remedy": "compensation",
            "amount": amount,
            "when": when,
            "reduce": {"when": [["reroute_delay_minutes", "<=", minutes]], "factor": "0.5"},
            "alternatives": [
                {"remedy": "voucher", "factor": "1.2", "label": "Travel voucher (+20%)"}
            ],
        }
        if cancellation:
            rule["exempt"] = {"when": [["notice_days", ">=", 14]]}
        rules.append(rule)
        rules.append(
            {
                "code": f"meals_{code}",
                "label": f"Meals and refreshments, {label}",
                "remedy": "meals",
                "care": True,
                "when": [*distance, ["magnitude", ">=", minutes]],
            }
        )
    rules.append(
        {
            "code": "hotel",
            "label": "Hotel and transfer for an overnight delay",
            "remedy": "hotel",
            "care": True,
            "when": [["overnight", "==", True]],
        }
    )
    return rules


# The remedy kinds these rules use: (code, name, monetary).
EU261_REMEDY_KINDS: list[tuple[str, str, bool]] = [
    ("compensation", "Compensation", True),
    ("voucher", "Voucher", True),
    ("meals", "Meals and refreshments", False),
    ("hotel", "Hotel accommodation", False),
]
