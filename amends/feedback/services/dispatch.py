"""Sending surveys: the sweep mails due ones, reminds once, and expires unanswered links.

Each step moves a row out of the state the sweep looks for, under a row lock, and the mail is
queued in the same transaction with a dedupe key, so two workers racing send each mail once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q

from amends.cases.models import case_ref
from amends.cases.services.events import case_event_record
from amends.channels.conf import public_base_url
from amends.channels.services.outbound import email_queue
from amends.channels.services.portal import portal_link_issue, portal_url
from amends.core.conf import amends_setting
from amends.feedback.choices import FeedbackEventKind, SurveyStatus
from amends.feedback.models import Survey, SurveySettings
from amends.feedback.selectors import survey_settings
from amends.feedback.services.surveys import survey_token


def survey_url(survey: Survey) -> str:
    return f"{public_base_url()}/survey/{survey_token(survey)}/"


def _batch() -> int:
    return int(amends_setting("SWEEP_BATCH_SIZE", 1000))


def _mail(survey: Survey, config: SurveySettings, *, reminder: bool) -> None:
    values = {
        "name": survey.customer.name,
        "ref": case_ref(survey.case_id),
        "link": survey_url(survey),
        "expires": f"{survey.expires_at:%d %B %Y}" if survey.expires_at else "",
        "portal": "",
    }
    if "{portal}" in config.email_body:
        days = max(1, min(366, config.expiry_days))
        values["portal"] = portal_url(portal_link_issue(case=survey.case, actor=None, days=days))
    try:
        subject = config.email_subject.format(**values)
        body = config.email_body.format(**values)
    except (KeyError, IndexError, ValueError):  # an admin typo in a placeholder
        subject = f"How did we do? ({values['ref']})"
        body = f"Hello {values['name']},\n\nWould you tell us how we did?\n\n{values['link']}\n"
    if reminder:
        subject = f"Reminder: {subject}"
    email_queue(
        to=survey.customer.email,
        subject=subject,
        body=body,
        automatic=True,
        kind="survey",
        case_id=survey.case_id,
        customer_id=survey.customer_id,
        dedupe_key=f"survey-reminder:{survey.pk}" if reminder else f"survey:{survey.pk}",
    )


def _locked(ids: list[int], condition: Q) -> list[Survey]:
    return list(
        Survey.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("customer")
        .filter(condition, pk__in=ids)
        .order_by("pk")
    )


@transaction.atomic
def _send_batch(ids: list[int], now: datetime, config: SurveySettings) -> int:
    sent = 0
    for survey in _locked(ids, Q(status=SurveyStatus.SCHEDULED, send_after__lte=now)):
        if not survey.customer.email:
            survey.status = SurveyStatus.CANCELLED
            survey.save(update_fields=["status", "updated_at"])
            continue
        survey.status = SurveyStatus.SENT
        survey.sent_at = now
        survey.expires_at = now + timedelta(days=config.expiry_days)
        survey.save(update_fields=["status", "sent_at", "expires_at", "updated_at"])
        _mail(survey, config, reminder=False)
        case_event_record(
            case=survey.case,
            kind=FeedbackEventKind.SURVEY_SENT,
            actor=None,
            data={"survey_id": survey.pk, "expires_at": survey.expires_at.isoformat()},
        )
        sent += 1
    return sent


@transaction.atomic
def _remind_batch(ids: list[int], now: datetime, config: SurveySettings) -> int:
    cutoff = now - timedelta(hours=config.reminder_after_hours)
    condition = Q(
        status=SurveyStatus.SENT, reminded_at__isnull=True, sent_at__lte=cutoff, expires_at__gt=now
    )
    reminded = 0
    for survey in _locked(ids, condition):
        survey.reminded_at = now
        survey.save(update_fields=["reminded_at", "updated_at"])
        _mail(survey, config, reminder=True)
        reminded += 1
    return reminded


def survey_sweep(*, now: datetime) -> int:
    """Send due surveys, remind once, expire old links; returns the rows changed."""
    config = survey_settings()
    batch = _batch()
    changed = 0
    while True:
        ids = list(
            Survey.objects.filter(status=SurveyStatus.SCHEDULED, send_after__lte=now)
            .order_by("send_after", "id")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            break
        done = _send_batch(ids, now, config)
        changed += done
        if len(ids) < batch or done == 0:
            break
    if config.reminder_after_hours > 0:
        cutoff = now - timedelta(hours=config.reminder_after_hours)
        while True:
            ids = list(
                Survey.objects.filter(
                    status=SurveyStatus.SENT,
                    sent_at__lte=cutoff,
                    reminded_at__isnull=True,
                    expires_at__gt=now,
                )
                .order_by("sent_at", "id")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                break
            done = _remind_batch(ids, now, config)
            changed += done
            if len(ids) < batch or done == 0:
                break
    changed += Survey.objects.filter(status=SurveyStatus.SENT, expires_at__lte=now).update(
        status=SurveyStatus.EXPIRED, updated_at=now
    )
    return changed
