from __future__ import annotations

from django.db.models import QuerySet

from amends.channels.models import (
    AddressFlag,
    Attachment,
    InboundEmail,
    OutboundEmail,
    PortalLink,
)


def case_thread_message_ids(*, case_id: int) -> list[str]:
    """Message-IDs of a case's email thread (what we sent and what we received), oldest
    first."""
    sent = OutboundEmail.objects.filter(case_id=case_id).values_list("created_at", "message_id")
    received = InboundEmail.objects.filter(case_id=case_id).values_list("created_at", "message_id")
    return [message_id for _, message_id in sorted([*sent, *received])]


def inbound_list_for_case(*, case_id: int, limit: int = 200) -> list[InboundEmail]:
    return list(InboundEmail.objects.filter(case_id=case_id).order_by("-created_at", "-id")[:limit])


def attachment_list_for_case(*, case_id: int) -> list[Attachment]:
    return list(Attachment.objects.filter(case_id=case_id).order_by("created_at", "id")[:500])


def address_flag_for(*, address: str) -> AddressFlag | None:
    return AddressFlag.objects.filter(address=address.strip().lower()).first()


def outbound_list_for_case(*, case_id: int, limit: int = 200) -> list[OutboundEmail]:
    return list(
        OutboundEmail.objects.filter(case_id=case_id).order_by("-created_at", "-id")[:limit]
    )


def portal_link_list_for_case(*, case_id: int) -> QuerySet[PortalLink]:
    return PortalLink.objects.filter(case_id=case_id).select_related("created_by", "revoked_by")
