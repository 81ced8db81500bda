from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from amends.accounts.tests.factories import UserFactory
from amends.channels.models import Mailbox, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "name",
    [
        "mailbox",
        "webhookendpoint",
        "webhookdelivery",
        "outboundemail",
        "inboundemail",
        "addressflag",
        "portallink",
    ],
)
def test_channels_admin_lists_open(admin_client: Client, name: str) -> None:
    assert admin_client.get(reverse(f"admin:channels_{name}_changelist")).status_code == 200


def test_webhook_admin_generates_a_secret(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:channels_webhookendpoint_add"),
        {
            "name": "CRM",
            "url": "https://crm.example.com/h",
            "events": "[]",
            "secret": "",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert WebhookEndpoint.objects.get().secret.startswith("whsec_")


def test_mailbox_admin_adds_a_mailbox(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:channels_mailbox_add"),
        {
            "name": "Support",
            "host": "imap.example.com",
            "port": "993",
            "username": "support",
            "password_env": "AMENDS_IMAP_PASSWORD",
            "folder": "INBOX",
            "processed_folder": "",
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert Mailbox.objects.get().host == "imap.example.com"
