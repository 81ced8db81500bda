from __future__ import annotations

from django import forms

from amends.insight.choices import EmotionLabel, QueueFlag

MAX_DRAFT = 50_000


class ApologyCheckForm(forms.Form):
    """The reply form's body field, checked by the apology coach."""

    body = forms.CharField(max_length=MAX_DRAFT, required=False, strip=True)


class ScoreCorrectForm(forms.Form):
    labels = forms.MultipleChoiceField(choices=EmotionLabel.choices, required=False)
    upset = forms.TypedChoiceField(
        choices=[("", "Leave as read"), ("yes", "Upset"), ("no", "Not upset")],
        required=False,
        coerce=lambda value: {"yes": True, "no": False}.get(value),
        empty_value=None,
    )


class InsightQueueForm(forms.Form):
    flag = forms.ChoiceField(choices=QueueFlag.choices, required=False)
    page = forms.IntegerField(min_value=1, max_value=100_000, required=False)


class CoachingForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=3660, required=False)
