from __future__ import annotations

from django import forms

MAX_ID = 2**63 - 1


class AnalyticsFilterForm(forms.Form):
    """The filters every loyalty page shares: a period, a team, a category and a service."""

    since = forms.DateField(label="From", required=False)
    until = forms.DateField(label="To", required=False)
    team = forms.IntegerField(label="Team", required=False, min_value=1, max_value=MAX_ID)
    category = forms.IntegerField(label="Category", required=False, min_value=1, max_value=MAX_ID)
    service = forms.IntegerField(label="Service", required=False, min_value=1, max_value=MAX_ID)


class DrillForm(AnalyticsFilterForm):
    metric = forms.CharField(required=False, max_length=30)
    root_cause = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)


class ParadoxForm(AnalyticsFilterForm):
    retention_days = forms.IntegerField(
        label="Retention after (days)", required=False, min_value=1, max_value=3650
    )


class LoyaltyStatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            ("lost", "Lost"),
            ("won_back", "Won back"),
            ("at_risk", "At risk"),
            ("active", "Active"),
        ]
    )
    reason = forms.CharField(max_length=200)


class CancellationsForm(forms.Form):
    file = forms.FileField(label="Cancellations CSV")


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=200)
    lost_reason = forms.CharField(label="Reason lost contains", max_length=200, required=False)
    category = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    lost_since = forms.DateField(label="Lost from", required=False)
    lost_until = forms.DateField(label="Lost until", required=False)
    remedy_kind = forms.CharField(label="Offer (remedy kind)", max_length=40)
    amount = forms.DecimalField(max_digits=12, decimal_places=2, required=False, min_value=0)
    currency = forms.CharField(max_length=3, required=False)
    budget = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    subject = forms.CharField(max_length=200)
    body = forms.CharField(max_length=20_000, widget=forms.Textarea(attrs={"rows": 6}))
