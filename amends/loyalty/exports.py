"""CSV exports of the loyalty reports (shared by the API and the web pages)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from amends.loyalty.selectors import Overview

# Cells a spreadsheet would run as a formula are prefixed with a quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def rows_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue()


OPERATIONS_COLUMNS = (
    "root_cause",
    "service",
    "category",
    "failures",
    "customers_hurt",
    "repeat_failures",
    "severity_weight",
    "cost",
    "incidents",
    "priority",
)
MTBF_COLUMNS = (
    "service",
    "category",
    "failures",
    "first_failure",
    "last_failure",
    "mtbf_hours",
    "mean_gap_hours",
)
OVERVIEW_COLUMNS = (
    "week",
    "opened",
    "resolved",
    "sla_pct",
    "promises_kept_pct",
    "cost",
    "csat_avg",
    "csat_count",
    "fair_outcome_avg",
    "fair_outcome_count",
    "fair_process_avg",
    "fair_process_count",
    "fair_treatment_avg",
    "fair_treatment_count",
)


def overview_rows(overview: Overview) -> list[dict[str, Any]]:
    return [
        {
            "week": w.week.isoformat(),
            "opened": w.opened,
            "resolved": w.resolved,
            "sla_pct": w.sla_pct,
            "promises_kept_pct": w.promises_kept_pct,
            "cost": w.cost,
            "csat_avg": w.csat_avg,
            "csat_count": w.csat_count,
            "fair_outcome_avg": w.fair_outcome_avg,
            "fair_outcome_count": w.fair_outcome_count,
            "fair_process_avg": w.fair_process_avg,
            "fair_process_count": w.fair_process_count,
            "fair_treatment_avg": w.fair_treatment_avg,
            "fair_treatment_count": w.fair_treatment_count,
        }
        for w in overview.weeks
    ]


def paradox_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(split: str, group: str, g: Mapping[str, Any]) -> None:
        rows.append(
            {
                "split": split,
                "group": group,
                "count": g["count"],
                "small": "yes" if g["small"] else "no",
                "csat_n": g["csat"]["n"],
                "csat_mean": _round(g["csat"]["mean"]),
                "csat_ci_low": _round(g["csat"]["ci_low"]),
                "csat_ci_high": _round(g["csat"]["ci_high"]),
                "nps_n": g["nps"]["n"],
                "nps": g["nps"]["score"],
                "would_use_again_n": g["would_use_again"]["n"],
                "would_use_again": _round(g["would_use_again"]["share"]),
                "would_use_again_ci_low": _round(g["would_use_again"]["ci_low"]),
                "would_use_again_ci_high": _round(g["would_use_again"]["ci_high"]),
                "retention_n": g["retention"]["n"],
                "retention": _round(g["retention"]["share"]),
                "retention_ci_low": _round(g["retention"]["ci_low"]),
                "retention_ci_high": _round(g["retention"]["ci_high"]),
            }
        )

    add("all", "never failed", report["never_failed"])
    add("all", "recovered", report["recovered"])
    for split in report["splits"]:
        for group in split["groups"]:
            add(split["split"], group["group"], group)
    return rows


PARADOX_COLUMNS = (
    "split",
    "group",
    "count",
    "small",
    "csat_n",
    "csat_mean",
    "csat_ci_low",
    "csat_ci_high",
    "nps_n",
    "nps",
    "would_use_again_n",
    "would_use_again",
    "would_use_again_ci_low",
    "would_use_again_ci_high",
    "retention_n",
    "retention",
    "retention_ci_low",
    "retention_ci_high",
)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
