"""Shapes of the case page's forms; the services check the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from amends.accounts.selectors import staff_list, team_list
from amends.cases.choices import OPEN_STATUSES, Channel, Fault, MessageDirection, Outcome, SlaState
from amends.cases.listing import MAX_QUERY_LENGTH, SORT_LABELS
from amends.cases.selectors import tag_names
from amends.channels.services.attachments import attachment_max_bytes, attachment_max_per_message
from amends.customers.selectors import customer_search
from amends.policies.choices import Severity
from amends.taxonomy.selectors import category_list, service_list
from amends.web.forms.common import VersionForm

SEVERITY_CHOICES = [(str(value), label) for value, label in Severity.choices]


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any open")] + [(s.value, s.label) for s in OPEN_STATUSES],
    )
    severity = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, choices=[("", "Any"), *SEVERITY_CHOICES]
    )
    category = forms.ModelChoiceField(required=False, queryset=category_list(), empty_label="Any")
    sla_state = forms.ChoiceField(
        required=False,
        label="SLA",
        choices=[
            ("", "Any"),
            (SlaState.BREACHED, "Breached"),
            (SlaState.AT_RISK, "At risk"),
            (SlaState.ON_TRACK, "On track"),
            (SlaState.PAUSED, "Paused"),
        ],
    )
    unassigned = forms.BooleanField(required=False, label="Unassigned only")
    tag = forms.CharField(
        required=False,
        max_length=50,
        label="Tag",
        strip=True,
        widget=forms.TextInput(attrs={"list": "queue-tags", "autocomplete": "off"}),
    )
    upset = forms.BooleanField(required=False, label="Upset")
    churn = forms.BooleanField(required=False, label="Churn intent")
    repeat = forms.BooleanField(required=False, label="Repeat failure")
    q = forms.CharField(required=False, max_length=MAX_QUERY_LENGTH, label="Search", strip=True)
    sort = forms.ChoiceField(required=False, choices=[("", "Default"), *SORT_LABELS.items()])
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def tag_options(self) -> list[str]:
        """The tags offered in the filter bar (read only when the whole page is drawn)."""
        return tag_names()


class StepDoneForm(VersionForm):
    note = forms.CharField(required=False, max_length=2000, label="Note")


class StepSkipForm(VersionForm):
    # Required here for a clear message; the service insists too.
    reason = forms.CharField(max_length=2000, label="Reason for skipping")


class AssignForm(VersionForm):
    assignee = forms.ModelChoiceField(
        queryset=staff_list(), required=False, empty_label="Nobody (team queue)"
    )


class ResolveForm(VersionForm):
    outcome = forms.ChoiceField(choices=Outcome.choices)
    explanation = forms.CharField(
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when the complaint is not upheld.",
    )
    confirm_undetermined = forms.BooleanField(required=False)


class ReopenForm(VersionForm):
    reason = forms.CharField(required=False, max_length=2000)


class CaseAccountForm(VersionForm):
    description = forms.CharField(
        required=False, label="Customer's account", widget=forms.Textarea(attrs={"rows": 3})
    )
    expected = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    delivered = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    staff_account = forms.CharField(
        required=False, label="Staff account", widget=forms.Textarea(attrs={"rows": 3})
    )
    fault = forms.ChoiceField(choices=Fault.choices, label="Fault attribution")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MessageFilesField(forms.FileField):
    """Several files on one message: none, or up to the per-message limit, none empty or too
    large (the service checks the same again)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(**kwargs)

    def clean(self, data: object, initial: object = None) -> list[UploadedFile[bytes]]:
        items = list(data) if isinstance(data, (list, tuple)) else ([data] if data else [])
        most = attachment_max_per_message()
        if len(items) > most:
            raise forms.ValidationError(f"At most {most} files on one message.")
        one = super().clean
        files: list[UploadedFile[bytes]] = [one(item, initial) for item in items]
        limit = attachment_max_bytes()
        for file in files:
            if file.size is not None and file.size > limit:
                raise forms.ValidationError(
                    f"{file.name} is too large (at most {limit // (1024 * 1024)} MB)."
                )
        return files


class MessageForm(VersionForm):
    direction = forms.ChoiceField(
        choices=[
            (MessageDirection.INTERNAL, "Internal note"),
            (MessageDirection.OUTBOUND, "Reply to the customer"),
            (MessageDirection.INBOUND, "Record the customer's message"),
        ],
        label="Type",
    )
    body = forms.CharField(
        max_length=50_000, label="Message", widget=forms.Textarea(attrs={"rows": 4})
    )
    awaiting_customer = forms.BooleanField(
        required=False, label="Wait for the customer's answer (pauses the SLA clock)"
    )
    attachments = MessageFilesField(label="Files", required=False)


INTAKE_CHANNELS = [
    (Channel.PHONE.value, Channel.PHONE.label),
    (Channel.IN_PERSON.value, Channel.IN_PERSON.label),
    (Channel.EMAIL.value, Channel.EMAIL.label),
    (Channel.WEB.value, Channel.WEB.label),
    (Channel.SOCIAL.value, Channel.SOCIAL.label),
]


class CaseNewForm(forms.Form):
    """A complaint taken by phone or in person: an existing customer or a new one, and the case."""

    customer = forms.ModelChoiceField(
        queryset=customer_search(), required=False, widget=forms.RadioSelect
    )
    customer_name = forms.CharField(required=False, max_length=200, label="Name")
    customer_email = forms.EmailField(required=False, label="Email")
    customer_phone = forms.CharField(required=False, max_length=40, label="Phone")
    customer_ref = forms.CharField(required=False, max_length=100, label="Customer reference")

    title = forms.CharField(max_length=200)
    description = forms.CharField(
        required=False, label="Customer's account", widget=forms.Textarea(attrs={"rows": 4})
    )
    expected = forms.CharField(
        required=False, label="What they expected", widget=forms.Textarea(attrs={"rows": 3})
    )
    delivered = forms.CharField(
        required=False, label="What was delivered", widget=forms.Textarea(attrs={"rows": 3})
    )
    channel = forms.ChoiceField(choices=INTAKE_CHANNELS, initial=Channel.PHONE)
    severity = forms.TypedChoiceField(
        choices=SEVERITY_CHOICES, coerce=int, initial=str(Severity.MEDIUM)
    )
    category = forms.ModelChoiceField(queryset=category_list(), required=False, empty_label="—")
    service = forms.ModelChoiceField(queryset=service_list(), required=False, empty_label="—")
    team = forms.ModelChoiceField(
        queryset=team_list(),
        required=False,
        empty_label="By the routing rules",
        help_text="Leave it to the routing rules unless you know better.",
    )
    assign_to_me = forms.BooleanField(
        required=False, initial=False, label="Assign to me (I will work this case)"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("customer") is None and not (data.get("customer_name") or "").strip():
            raise forms.ValidationError(
                "Pick an existing customer or enter the new customer's name."
            )
        return data
