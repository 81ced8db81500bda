from django.db import models
from django.utils.translation import gettext_lazy as _


class SurveyStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    SENT = "sent", _("Sent")
    ANSWERED = "answered", _("Answered")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


class PromisesKept(models.TextChoices):
    YES = "yes", _("Yes")
    PARTLY = "partly", _("Partly")
    NO = "no", _("No")


class ComplimentSource(models.TextChoices):
    SURVEY = "survey", _("Recovery survey")
    LOGGED = "logged", _("Logged by staff")


class FollowUpReason(models.TextChoices):
    LOW_CSAT = "low_csat", _("Low satisfaction")
    DETRACTOR = "detractor", _("Would not recommend")
    PROMISES = "promises", _("Promises not done")


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class FollowUpOutcome(models.TextChoices):
    PUT_RIGHT = "put_right", _("Contacted, put right")
    FURTHER_ACTION = "further_action", _("Contacted, further action agreed")
    NO_REPLY = "no_reply", _("Could not reach the customer")
    NO_ACTION = "no_action", _("No action needed")


class ReviewStatus(models.TextChoices):
    AWAITING_ACCOUNT = "awaiting_account", _("Awaiting the staff member's account")
    UNDER_REVIEW = "under_review", _("Under review")
    DECIDED = "decided", _("Decided")


class ReviewOutcome(models.TextChoices):
    NOT_UPHELD = "not_upheld", _("Not upheld")
    COACHING = "coaching", _("Upheld with coaching (development)")
    PROCESS_CHANGE = "process_change", _("Upheld with a process change")


class CheckSubject(models.TextChoices):
    DRAFT_REPLY = "draft_reply", _("Draft reply")
    PROPOSED_OUTCOME = "proposed_outcome", _("Proposed outcome")


class CheckStatus(models.TextChoices):
    OPEN = "open", _("Open")
    APPROVED = "approved", _("Approved")
    COMMENTED = "commented", _("Commented")


class FeedbackEventKind(models.TextChoices):
    """Kinds of the timeline events the feedback app writes on a case."""

    SURVEY_SCHEDULED = "survey_scheduled", _("Survey scheduled")
    SURVEY_SENT = "survey_sent", _("Survey sent")
    SURVEY_ANSWERED = "survey_answered", _("Survey answered")
    SURVEY_EXCLUDED = "survey_excluded", _("No survey: opened internally")
    FOLLOW_UP_OPENED = "follow_up_opened", _("Detractor follow-up opened")
    FOLLOW_UP_DONE = "follow_up_done", _("Detractor follow-up done")
    COMPLIMENT = "compliment", _("Compliment")
    CHECK_REQUESTED = "second_look_requested", _("Second look requested")
    CHECK_ANSWERED = "second_look_answered", _("Second look answered")
    REVIEW_OPENED = "staff_review_opened", _("Staff review opened")


class NotificationKind:
    """Notification kinds this app sends (the commitments app's table stores any short kind)."""

    COMPLIMENT = "compliment"
    FOLLOW_UP = "detractor_follow_up"
    REVIEW = "staff_review"
    CHECK = "second_look"
