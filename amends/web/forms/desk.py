"""Forms of desk work: bulk actions, tags, merging, canned replies, a customer's handling."""

from __future__ import annotations

from django import forms

from amends.cases.services.bulk_actions import MAX_BULK_ROWS
from amends.customers.choices import CustomerTier
from amends.web.forms.common import VersionForm


class BulkRefsField(forms.MultipleChoiceField):
    """Case references ticked in a list (any value; each row is checked by the service)."""

    def valid_value(self, value: object) -> bool:
        return isinstance(value, str) and 0 < len(value) <= 20


class CaseBulkForm(forms.Form):
    refs = BulkRefsField(error_messages={"required": "Tick at least one case."})
    action = forms.ChoiceField(
        choices=[
            ("assign_me", "Assign to me"),
            ("assign", "Assign to…"),
            ("unassign", "Back to the team queue"),
            ("close", "Close"),
        ]
    )
    assignee = forms.CharField(required=False, max_length=150)

    def clean_refs(self) -> list[str]:
        refs: list[str] = self.cleaned_data["refs"]
        if len(refs) > MAX_BULK_ROWS:
            raise forms.ValidationError(f"At most {MAX_BULK_ROWS} cases at once.")
        return refs


class BulkIdsField(forms.MultipleChoiceField):
    """Row ids ticked in a list (digits; each row is checked by the service)."""

    def valid_value(self, value: object) -> bool:
        return isinstance(value, str) and value.isdigit() and len(value) <= 12

    def clean(self, value: object) -> list[int]:
        return [int(v) for v in super().clean(value)]


class ApprovalBulkForm(forms.Form):
    ids = BulkIdsField(error_messages={"required": "Tick at least one approval."})
    action = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    reason = forms.CharField(required=False, max_length=2000)

    def clean_ids(self) -> list[int]:
        ids: list[int] = self.cleaned_data["ids"]
        if len(ids) > MAX_BULK_ROWS:
            raise forms.ValidationError(f"At most {MAX_BULK_ROWS} approvals at once.")
        return ids


class TagsForm(forms.Form):
    add = forms.CharField(required=False, max_length=300, label="Add tags")
    remove = forms.CharField(required=False, max_length=50)
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class MergeForm(VersionForm):
    into = forms.CharField(max_length=20, label="Merge into case")
    reason = forms.CharField(required=False, max_length=2000)


class CannedPickForm(forms.Form):
    reply = forms.IntegerField(min_value=1, max_value=2**31)


class CustomerHandlingForm(forms.Form):
    tier = forms.ChoiceField(choices=CustomerTier.choices)
    special_handling = forms.BooleanField(required=False)
    special_handling_reason = forms.CharField(required=False, max_length=500)
