"""The public complaint form at /report: anti-abuse without third parties (a honeypot, rate
limits per IP and per address, size limits), then a case, a confirmation page and email."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from amends.cases.choices import Channel
from amends.cases.models import Case
from amends.cases.services.intake import case_create
from amends.channels.choices import OutboundKind
from amends.channels.conf import setting_int
from amends.channels.models import ReportSubmission
from amends.channels.services.attachments import attachment_add
from amends.channels.services.outbound import email_queue
from amends.channels.services.portal import portal_url_for_case
from amends.core.exceptions import ApplicationError
from amends.customers.selectors import customer_newest_with_email
from amends.customers.services import customer_create
from amends.taxonomy.models import Category


@dataclass(frozen=True)
class ReportResult:
    case: Case | None  # None: the honeypot caught a bot (it sees the same thank-you page)
    portal_url: str


def ip_hash(ip: str) -> str:
    """IPs are kept only as a keyed hash, for the rate limit."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:{ip}".encode()).hexdigest()


def _rate_limited(ip: str, address: str) -> None:
    since = timezone.now() - timedelta(hours=1)
    recent = ReportSubmission.objects.filter(created_at__gte=since)
    if recent.filter(ip_hash=ip_hash(ip)).count() >= setting_int("REPORT_MAX_PER_IP_HOUR", 10):
        raise ApplicationError(
            "Too many reports from your network in the last hour. Please try again later.",
            code="rate_limited",
            status=429,
        )
    if recent.filter(address=address).count() >= setting_int("REPORT_MAX_PER_ADDRESS_HOUR", 5):
        raise ApplicationError(
            "Too many reports for this email address in the last hour. Please try again later.",
            code="rate_limited",
            status=429,
        )


def _title(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return (first[:97] + "…") if len(first) > 100 else (first or "Complaint from the web form")


@transaction.atomic
def report_submit(
    *,
    name: str,
    email: str,
    expected: str,
    happened: str,
    category: Category | None,
    ip: str,
    honeypot: str = "",
    attachment: tuple[str, str, bytes] | None = None,
) -> ReportResult:
    """Open a case from the public form. Shape checks (lengths, address) are the form's."""
    email = email.strip().lower()
    if honeypot.strip():
        return ReportResult(case=None, portal_url="")
    _rate_limited(ip, email)
    customer = customer_newest_with_email(address=email)
    if customer is None:
        customer = customer_create(name=name.strip()[:200] or email, email=email)
    case = case_create(
        customer=customer,
        title=_title(happened),
        description=happened,
        expected=expected,
        delivered=happened,
        category=category,
        channel=Channel.WEB,
        actor=None,
        account_as_message=True,
    )
    ReportSubmission.objects.create(
        ip_hash=ip_hash(ip), address=email, case=case, created_at=timezone.now()
    )
    if attachment is not None:
        filename, content_type, data = attachment
        attachment_add(case=case, filename=filename, content_type=content_type, data=data)
    url = portal_url_for_case(case_id=case.pk, actor=None)
    email_queue(
        to=email,
        subject=f"We have your complaint: {case.title}",
        body=(
            f"Dear {customer.name},\n\n"
            f"Thank you for telling us. Your reference is {case.ref}.\n\n"
            f"You can follow your case, reply and see what we promise here:\n{url}\n\n"
            "Reply to this email if you want to add anything.\n"
        ),
        automatic=True,
        kind=OutboundKind.CONFIRMATION,
        case_id=case.pk,
        dedupe_key=f"confirm:{case.pk}",
    )
    return ReportResult(case=case, portal_url=url)
