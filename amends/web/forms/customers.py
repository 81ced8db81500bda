from __future__ import annotations

from django import forms


class PageForm(forms.Form):
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)


class CustomerSearchForm(PageForm):
    q = forms.CharField(required=False, max_length=200, label="Search customers")
