"""Forms of the public pages (report form, customer portal) and the channel actions."""

from __future__ import annotations

from django import forms
from django.core.files.uploadedfile import UploadedFile

from amends.channels.services.attachments import attachment_max_bytes
from amends.taxonomy.models import Category

MAX_TEXT = 5000


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise forms.ValidationError("Remove the invalid characters.")
    return value


class AttachmentField(forms.FileField):
    def clean(self, data: object, initial: object = None) -> UploadedFile[bytes] | None:
        file = super().clean(data, initial)
        if file and file.size is not None and file.size > attachment_max_bytes():
            raise forms.ValidationError(
                f"The file is too large (at most {attachment_max_bytes() // (1024 * 1024)} MB)."
            )
        return file  # type: ignore[no-any-return]


class ReportForm(forms.Form):
    name = forms.CharField(label="Your name", max_length=200)
    email = forms.EmailField(label="Your email", max_length=254)
    expected = forms.CharField(
        label="What did you expect?", max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )
    happened = forms.CharField(
        label="What happened?", max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 5})
    )
    category = forms.ModelChoiceField(
        label="What is it about?",
        queryset=Category.objects.none(),
        required=False,
        empty_label="Not sure",
    )
    attachment = AttachmentField(label="A photo or document (optional)", required=False)
    # Hidden from people by CSS and from screen readers; bots fill it in.
    website = forms.CharField(required=False, label="Leave this empty", max_length=200)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["category"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - narrowing for mypy
        field.queryset = Category.objects.filter(active=True).order_by("name")

    def clean_happened(self) -> str:
        return _no_nul(self.cleaned_data["happened"])

    def clean_expected(self) -> str:
        return _no_nul(self.cleaned_data["expected"])

    def clean_name(self) -> str:
        return _no_nul(self.cleaned_data["name"])


class PortalReplyForm(forms.Form):
    body = forms.CharField(
        label="Your reply", max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 4})
    )
    attachment = AttachmentField(label="Add a file (optional)", required=False)

    def clean_body(self) -> str:
        return _no_nul(self.cleaned_data["body"])


class PortalChooseForm(forms.Form):
    menu = forms.IntegerField(min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    remedy = forms.IntegerField(min_value=1, max_value=2**63 - 1)


class PortalLinkRequestForm(forms.Form):
    email = forms.EmailField(label="Your email", max_length=254)
    ref = forms.CharField(label="Case reference (for example AM-000123)", max_length=30)
