"""The working-hours editor of the calendar admin: per weekday, a start and an end (and a
second pair for a split day), instead of raw JSON."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from amends.policies.models import Calendar

DAYS: tuple[tuple[str, str], ...] = (
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
)
SLOTS = 2  # intervals a day can have (a lunch break splits the day in two)
_PARTS = ("start", "end")


def _inputs() -> list[tuple[str, str, int]]:
    """(day code, label, slot) for each start/end input, in order."""
    return [
        (code, f"{name} {'' if slot == 0 else 'second '}{part}".replace("  ", " "), slot)
        for code, name in DAYS
        for slot in range(SLOTS)
        for part in _PARTS
    ]


class WorkingHoursWidget(forms.MultiWidget):
    template_name = "policies/working_hours_widget.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        widgets = [
            forms.TextInput(
                attrs={
                    "aria-label": label,
                    "placeholder": "hh:mm",
                    "size": 5,
                    "maxlength": 5,
                    "inputmode": "numeric",
                    "autocomplete": "off",
                }
            )
            for _, label, _ in _inputs()
        ]
        super().__init__(widgets, attrs)

    def decompress(self, value: Any) -> list[str]:
        hours = value if isinstance(value, dict) else {}
        values: list[str] = []
        for code, _ in DAYS:
            pairs = hours.get(code) or []
            for slot in range(SLOTS):
                pair = pairs[slot] if slot < len(pairs) else ["", ""]
                values += [str(pair[0]), str(pair[1])]
        return values

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        subwidgets = context["widget"]["subwidgets"]
        per_day = SLOTS * len(_PARTS)
        context["widget"]["rows"] = [
            {"label": label, "inputs": subwidgets[i * per_day : (i + 1) * per_day]}
            for i, (_, label) in enumerate(DAYS)
        ]
        return context


class WorkingHoursField(forms.MultiValueField):
    """Seven days of [start, end] pairs as `{"mon": [["09:00", "17:00"]], …}`; a day left
    empty is closed. The calendar's own clean() checks the times and overlaps."""

    widget = WorkingHoursWidget

    def __init__(self, **kwargs: Any) -> None:
        fields = [forms.CharField(required=False, max_length=5) for _ in _inputs()]
        kwargs.setdefault("require_all_fields", False)
        kwargs.setdefault("required", False)
        super().__init__(fields=fields, **kwargs)

    def compress(self, data_list: list[str]) -> dict[str, list[list[str]]]:
        values = [str(v or "").strip() for v in (data_list or [])]
        values += [""] * (len(_inputs()) - len(values))
        hours: dict[str, list[list[str]]] = {}
        index = 0
        for code, name in DAYS:
            pairs: list[list[str]] = []
            for _ in range(SLOTS):
                start, end = values[index], values[index + 1]
                index += 2
                if start and end:
                    pairs.append([start, end])
                elif start or end:
                    raise ValidationError(
                        f"{name}: give both a start and an end time (like 09:00 and 17:00), "
                        "or leave both empty.",
                        code="incomplete_hours",
                    )
            if pairs:
                hours[code] = pairs
        return hours


class CalendarAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    hours = WorkingHoursField(
        label="Working hours",
        help_text="Times in the calendar's time zone, 24-hour clock (24:00 ends at midnight). "
        "A day left empty is closed.",
    )

    class Meta:
        model = Calendar
        fields = ["name", "timezone", "hours", "is_default"]
