from __future__ import annotations

from typing import TypeVar

from django import forms

from amends.core.exceptions import ApplicationError


def form_error(form: forms.BaseForm) -> ApplicationError:
    """A form that failed its shape checks, as the same error a service raises (shown in #flash)."""
    errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
    parts = []
    for field, messages in errors.items():
        label = form.fields[field].label if field in form.fields else None
        prefix = f"{label or field.replace('_', ' ').capitalize()}: " if field != "__all__" else ""
        parts.append(prefix + " ".join(messages))
    return ApplicationError(
        "Please check the form. " + " ".join(parts),
        code="invalid_input",
        status=422,
        detail=errors,
    )


F = TypeVar("F", bound=forms.BaseForm)


def valid(form: F) -> F:
    """The form, or the ApplicationError that names what is wrong with it."""
    if not form.is_valid():
        raise form_error(form)
    return form


class VersionForm(forms.Form):
    """Every action posts the case version the user saw, so a stale page changes nothing."""

    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
