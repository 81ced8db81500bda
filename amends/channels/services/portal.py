"""Customer portal links: `/c/<token>`, one case each, signed, expiring and revocable.

A token is the link's id and random nonce signed with SECRET_KEY, so a forged token fails
before any query, and the row says whether it is still live (not revoked, not expired).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth.models import User
from django.core import signing
from django.db import transaction
from django.utils import timezone

from amends.cases.choices import CaseStatus, MessageDirection
from amends.cases.models import Case, Message, case_pk_from_ref
from amends.cases.services.messages import case_message_add
from amends.cases.services.workflow import case_reopen
from amends.channels.choices import OutboundKind
from amends.channels.conf import public_base_url, setting_int
from amends.channels.mime import is_bare_thanks
from amends.channels.models import PortalLink
from amends.channels.services.attachments import attachment_add
from amends.channels.services.outbound import email_queue
from amends.core.exceptions import ApplicationError
from amends.core.rows import instance_insert
from amends.remedies.models import ChoiceMenu, Remedy
from amends.remedies.services.menus import menu_choose

SALT = "amends.channels.portal"
MAX_TOKEN = 300


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT)


def portal_link_days() -> int:
    return max(1, setting_int("PORTAL_LINK_DAYS", 30))


def portal_token(link: PortalLink) -> str:
    return _signer().sign(f"{link.pk}.{link.nonce}")


def portal_url(link: PortalLink) -> str:
    return f"{public_base_url()}/c/{portal_token(link)}"


def portal_link_issue(*, case: Case, actor: User | None, days: int | None = None) -> PortalLink:
    """One fixed INSERT (atomic by itself, so no savepoint inside a caller's transaction; every
    case opened by mail or the form issues one)."""
    days = portal_link_days() if days is None else days
    if not 1 <= days <= 366:
        raise ApplicationError(
            "A portal link lasts between 1 and 366 days.",
            code="invalid_portal_link",
            status=422,
            detail={"days": ["Between 1 and 366."]},
        )
    link = PortalLink(
        case=case,
        nonce=secrets.token_urlsafe(24),
        expires_at=timezone.now() + timedelta(days=days),
        created_by=actor,
    )
    instance_insert(link)
    return link


@transaction.atomic
def portal_link_revoke(*, link: PortalLink, actor: User | None) -> PortalLink:
    link = PortalLink.objects.select_for_update().get(pk=link.pk)
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.revoked_by = actor
        link.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
    return link


@transaction.atomic
def portal_links_revoke_for_case(*, case: Case, actor: User | None) -> int:
    return PortalLink.objects.filter(case=case, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=actor, updated_at=timezone.now()
    )


def _live_link(case_id: int) -> PortalLink | None:
    # At least a day left, so a link we mail out does not die on the way.
    return (
        PortalLink.objects.filter(
            case_id=case_id,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now() + timedelta(days=1),
        )
        .order_by("-expires_at", "-id")
        .first()
    )


@transaction.atomic
def portal_url_for_case(*, case_id: int, actor: User | None) -> str:
    """The absolute URL of a live portal link for this case, issuing one if none is live."""
    link = _live_link(case_id)
    if link is None:
        case = Case.objects.filter(pk=case_id).first()
        if case is None:
            raise ApplicationError("No such case.", code="not_found", status=404)
        link = portal_link_issue(case=case, actor=actor)
    return portal_url(link)


def _invalid() -> ApplicationError:
    return ApplicationError(
        "This link is not valid. Ask for a fresh one.", code="portal_link_invalid", status=404
    )


def portal_link_for_token(token: str) -> PortalLink:
    """The live link a token names; raises ApplicationError if forged, expired or revoked."""
    if not token or len(token) > MAX_TOKEN or "\x00" in token:
        raise _invalid()
    try:
        value = _signer().unsign(token)
    except signing.BadSignature as exc:
        raise _invalid() from exc
    pk_text, _, nonce = value.partition(".")
    if not pk_text.isdigit() or len(pk_text) > 18:
        raise _invalid()
    link = PortalLink.objects.select_related("case").filter(pk=int(pk_text), nonce=nonce).first()
    if link is None or link.revoked_at is not None:
        raise _invalid()
    if link.expires_at <= timezone.now():
        raise ApplicationError(
            "This link has expired. Ask for a fresh one.", code="portal_link_expired", status=410
        )
    return link


def portal_case_for_token(token: str) -> Case:
    return portal_link_for_token(token).case


def portal_link_touch(*, link: PortalLink) -> None:
    """Remember when the customer last used the link (at most once a minute)."""
    now = timezone.now()
    if link.last_used_at is None or now - link.last_used_at > timedelta(minutes=1):
        PortalLink.objects.filter(pk=link.pk).update(last_used_at=now)


# ---- what the customer does on the portal --------------------------------------------------


@transaction.atomic
def portal_reply(
    *, link: PortalLink, body: str, attachment: tuple[str, str, bytes] | None = None
) -> Message:
    """The customer answers from the portal. A reply to a resolved case reopens it unless it
    is a bare thanks; a closed case takes no more replies (the customer writes anew)."""
    case = Case.objects.get(pk=link.case_id)
    body = body.strip()
    if case.status == CaseStatus.CLOSED:
        raise ApplicationError(
            "This case is closed. If something is still wrong, please report it again.",
            code="case_closed",
            status=409,
        )
    if case.status == CaseStatus.RESOLVED and not is_bare_thanks(body):
        case = case_reopen(
            case=case,
            version=None,
            actor=None,  # type: ignore[arg-type]  # the customer reopens it from the portal
            reason="The customer replied in the portal.",
        )
    message = case_message_add(case=case, direction=MessageDirection.INBOUND, body=body, actor=None)
    if attachment is not None:
        filename, content_type, data = attachment
        attachment_add(case=case, filename=filename, content_type=content_type, data=data)
    return message


@transaction.atomic
def portal_menu_choose(*, link: PortalLink, menu_id: int, remedy_id: int) -> Remedy:
    """The customer picks one remedy of a menu offered on their case (a POST, never a GET:
    mail scanners open links)."""
    menu = ChoiceMenu.objects.filter(pk=menu_id, case_id=link.case_id).first()
    if menu is None:
        raise ApplicationError("No such choice on your case.", code="not_found", status=404)
    return menu_choose(menu=menu, remedy_id=remedy_id, actor=None)


def portal_link_request(*, email: str, ref: str) -> bool:
    """A customer asks for a fresh link: mailed to the case's own address if the two match.
    The answer is the same either way, so the form reveals nothing; one mail per case per
    hour at most."""
    pk = case_pk_from_ref(ref)
    if pk is None:
        return False
    with transaction.atomic():
        case = Case.objects.select_related("customer").filter(pk=pk).first()
        address = email.strip().lower()
        if case is None or not address or case.customer.email.strip().lower() != address:
            return False
        link = _live_link(case.pk) or portal_link_issue(case=case, actor=None)
        email_queue(
            to=case.customer.email,
            subject=f"Your link to case {case.ref}",
            body=(
                f"Dear {case.customer.name},\n\nHere is your link to follow case {case.ref}:\n"
                f"{portal_url(link)}\n\nIf you did not ask for it, you can ignore this email.\n"
            ),
            automatic=True,
            kind=OutboundKind.PORTAL_LINK,
            case_id=case.pk,
            dedupe_key=f"portal-link:{case.pk}:{timezone.now():%Y%m%d%H}",
        )
    return True
