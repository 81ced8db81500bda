from __future__ import annotations

from django import forms

from amends.core.validation import time_zone_names


def time_zone_choices(organisation_zone: str) -> list[tuple[str, str]]:
    return [("", f"The organisation's ({organisation_zone})")] + [
        (name, name.replace("_", " ")) for name in sorted(time_zone_names())
    ]


class PreferencesForm(forms.Form):
    time_zone = forms.ChoiceField(
        required=False,
        label="Time zone",
        help_text="Pages show times in this zone, and forms read the times you type in it.",
    )

    def __init__(self, *args: object, organisation_zone: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["time_zone"].choices = time_zone_choices(organisation_zone)  # type: ignore[attr-defined]
