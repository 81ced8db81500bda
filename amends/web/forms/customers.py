from __future__ import annotations

from django import forms


class PageForm(forms.Form):
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)


class CustomerSearchForm(PageForm):
    q = forms.CharField(required=False, max_length=200, label="Search customers")


class CustomerPickForm(forms.Form):
    """`?customer=<id>` on the new-case form: open a case for that customer."""

    customer = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
