from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.selectors import staff_profile_of
from amends.cases.choices import CaseStatus, MessageDirection
from amends.cases.models import Case, Message
from amends.cases.selectors import case_visible_to
from amends.channels.models import (
    AddressFlag,
    Attachment,
    InboundEmail,
    OutboundEmail,
    PortalLink,
    WebhookDelivery,
    WebhookEndpoint,
)
from amends.commitments.choices import CommitmentStatus
from amends.commitments.models import Commitment
from amends.core.exceptions import PermissionDeniedError
from amends.remedies.models import ChoiceMenu


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


# ---- the customer portal: only what the customer may see -----------------------------------

STATUS_WORDS: dict[str, tuple[str, str]] = {
    CaseStatus.NEW: (
        "We have your complaint.",
        "Someone will pick it up and contact you by {ack_due}.",
    ),
    CaseStatus.ACKNOWLEDGED: (
        "We are looking into what went wrong.",
        "We aim to put it right by {resolve_due}.",
    ),
    CaseStatus.IN_RECOVERY: (
        "We are putting it right.",
        "We aim to finish by {resolve_due}.",
    ),
    CaseStatus.AWAITING_CUSTOMER: (
        "We are waiting for your answer.",
        "Please reply below so we can carry on.",
    ),
    CaseStatus.RESOLVED: (
        "We believe this is put right.",
        "If it is not, reply below and we will look at it again.",
    ),
    CaseStatus.CLOSED: (
        "This case is closed.",
        "If something is still wrong, please report it again.",
    ),
}


@dataclass(frozen=True)
class PortalPromise:
    description: str
    due_at: datetime
    state: str  # "open", "kept", "late" (open, past due), "broken", "cancelled"
    kept_at: datetime | None


@dataclass(frozen=True)
class PortalView:
    case: Case
    status_words: str
    next_step: str
    messages: list[Message]
    promises: list[PortalPromise]
    menus: list[ChoiceMenu]
    attachments: list[Attachment]
    can_reply: bool


def _when(value: datetime | None) -> str:
    if value is None:
        return "soon"
    return timezone.localtime(value).strftime("%-d %B %Y, %H:%M")


def portal_view(*, case: Case, now: datetime | None = None) -> PortalView:
    """Status in plain words, the public conversation, the customer-visible promises and the
    open remedy choices. Internal notes, staff names and staff-only fields never appear."""
    now = now or timezone.now()
    words, step = STATUS_WORDS.get(case.status, ("", ""))
    step = step.format(ack_due=_when(case.ack_due_at), resolve_due=_when(case.resolve_due_at))
    messages = list(
        Message.objects.filter(
            case=case, direction__in=[MessageDirection.INBOUND, MessageDirection.OUTBOUND]
        )
        .only("pk", "direction", "body", "created_at", "case_id")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("created_at", "id")[:500]
    )
    promises = []
    for c in Commitment.objects.filter(case=case, customer_visible=True).order_by("due_at", "id"):
        state = c.status
        if state == CommitmentStatus.OPEN and c.due_at < now:
            state = "late"
        promises.append(PortalPromise(c.description, c.due_at, state, c.kept_at))
    menus = list(
        ChoiceMenu.objects.filter(case=case, status="open")
        .prefetch_related("options__kind")
        .order_by("created_at", "id")
    )
    return PortalView(
        case=case,
        status_words=words,
        next_step=step,
        messages=messages,
        promises=promises,
        menus=menus,
        attachments=list(_portal_attachments(case.pk).order_by("created_at", "id")[:200]),
        can_reply=case.status != CaseStatus.CLOSED,
    )


def attachment_get_for_case(*, case_id: int, attachment_id: int) -> Attachment:
    return Attachment.objects.get(pk=attachment_id, case_id=case_id)


def _portal_attachments(case_id: int) -> QuerySet[Attachment]:
    """The case's files its customer may see: theirs and those on messages to or from them,
    never an internal note's."""
    return Attachment.objects.filter(case_id=case_id).exclude(
        message__direction=MessageDirection.INTERNAL
    )


def portal_attachment_get(*, case_id: int, attachment_id: int) -> Attachment:
    return _portal_attachments(case_id).get(pk=attachment_id)


def webhook_endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("name", "id")


def webhook_delivery_list(*, endpoint_id: int) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(endpoint_id=endpoint_id).order_by("-created_at", "-id")


@dataclass(frozen=True)
class ThreadItem:
    direction: str  # "inbound" | "outbound"
    email: InboundEmail | OutboundEmail


@dataclass(frozen=True)
class CaseChannelPanel:
    thread: list[ThreadItem]
    attachments: list[Attachment]
    bounced: AddressFlag | None
    live_links: int
    previous_case: Case | None


def case_channel_panel(*, case: Case, limit: int = 100) -> CaseChannelPanel:
    """Everything the case page shows about channels, in a fixed number of queries."""
    received = list(
        InboundEmail.objects.filter(case=case)
        .select_related("previous_case")
        .defer("text", "html")
        .order_by("-created_at", "-id")[:limit]
    )
    sent = list(
        OutboundEmail.objects.filter(case=case).defer("body").order_by("-created_at", "-id")[:limit]
    )
    thread = sorted(
        [ThreadItem("inbound", e) for e in received] + [ThreadItem("outbound", e) for e in sent],
        key=lambda item: (item.email.created_at, item.email.pk),
    )
    previous = next((e.previous_case for e in received if e.previous_case_id), None)
    return CaseChannelPanel(
        thread=thread[-limit:],
        attachments=list(Attachment.objects.filter(case=case).order_by("created_at", "id")[:200]),
        bounced=AddressFlag.objects.filter(customer_id=case.customer_id)
        .order_by("-last_bounce_at")
        .first(),
        live_links=PortalLink.objects.filter(
            case=case, revoked_at__isnull=True, expires_at__gt=timezone.now()
        ).count(),
        previous_case=previous,
    )


# ---- staff access --------------------------------------------------------------------------


def webhook_admin_check(*, user: User) -> None:
    """Webhook endpoints are configured by administrators only."""
    if user.is_superuser:
        return
    if staff_profile_of(user=user).role != Role.ADMIN:
        raise PermissionDeniedError("Only an administrator can manage webhooks.")


def portal_link_get_for_user(*, link_id: int, user: User) -> PortalLink:
    visible = case_visible_to(user=user)
    return PortalLink.objects.select_related("case").get(pk=link_id, case__in=visible)


def outbound_get_for_case(*, case: Case, email_id: int) -> OutboundEmail:
    return OutboundEmail.objects.get(pk=email_id, case=case)


def inbound_get_for_case(*, case: Case, email_id: int) -> InboundEmail:
    return InboundEmail.objects.get(pk=email_id, case=case)
