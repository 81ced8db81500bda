from __future__ import annotations

from django.db.models import QuerySet

from amends.channels.models import OutboundEmail, PortalLink


def case_thread_message_ids(*, case_id: int) -> list[str]:
    """Message-IDs of a case's email thread (what we sent), oldest first."""
    return list(
        OutboundEmail.objects.filter(case_id=case_id)
        .order_by("created_at", "id")
        .values_list("message_id", flat=True)
    )


def outbound_list_for_case(*, case_id: int, limit: int = 200) -> list[OutboundEmail]:
    return list(
        OutboundEmail.objects.filter(case_id=case_id).order_by("-created_at", "-id")[:limit]
    )


def portal_link_list_for_case(*, case_id: int) -> QuerySet[PortalLink]:
    return PortalLink.objects.filter(case_id=case_id).select_related("created_by", "revoked_by")
