from django.contrib import admin

from amends.feedback.models import (
    Compliment,
    FollowUp,
    SecondLook,
    StaffReview,
    Survey,
    SurveyExclusion,
    SurveyOptOut,
    SurveySettings,
)


@admin.register(SurveySettings)
class SurveySettingsAdmin(admin.ModelAdmin[SurveySettings]):
    """Survey wording and timing: one row, edited here."""

    fieldsets = [
        (
            "Timing",
            {"fields": ["delay_hours", "reminder_after_hours", "expiry_days", "follow_up_hours"]},
        ),
        (
            "Wording",
            {
                "fields": [
                    "intro",
                    "q_csat",
                    "q_nps",
                    "q_would_use_again",
                    "q_fair_outcome",
                    "q_fair_process",
                    "q_fair_treatment",
                    "q_promises",
                    "q_comment",
                    "q_compliment",
                ]
            },
        ),
        ("Email", {"fields": ["email_subject", "email_body"]}),
    ]

    def has_add_permission(self, request: object) -> bool:
        return not SurveySettings.objects.exists()


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin[Survey]):
    list_display = ["id", "case", "customer", "status", "send_after", "answered_at", "csat", "nps"]
    list_filter = ["status"]
    list_select_related = ["case", "customer"]
    raw_id_fields = ["case", "customer", "staff", "team", "category", "service"]
    readonly_fields = [
        "csat",
        "nps",
        "would_use_again",
        "fair_outcome",
        "fair_process",
        "fair_treatment",
        "promises_kept",
        "comment",
        "answered_at",
    ]


@admin.register(SurveyOptOut)
class SurveyOptOutAdmin(admin.ModelAdmin[SurveyOptOut]):
    list_display = ["customer", "source", "created_at"]
    raw_id_fields = ["customer"]


@admin.register(SurveyExclusion)
class SurveyExclusionAdmin(admin.ModelAdmin[SurveyExclusion]):
    list_display = ["case", "reason", "actor", "created_at"]
    raw_id_fields = ["case", "actor"]


@admin.register(Compliment)
class ComplimentAdmin(admin.ModelAdmin[Compliment]):
    list_display = ["staff", "source", "case", "created_at"]
    list_filter = ["source"]
    raw_id_fields = ["staff", "team", "case", "survey", "logged_by"]


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin[FollowUp]):
    list_display = ["case", "assignee", "due_at", "status", "outcome"]
    list_filter = ["status", "outcome"]
    raw_id_fields = ["case", "survey", "assignee", "done_by"]


@admin.register(StaffReview)
class StaffReviewAdmin(admin.ModelAdmin[StaffReview]):
    list_display = ["id", "case", "staff", "status", "outcome", "created_at"]
    list_filter = ["status", "outcome"]
    raw_id_fields = ["case", "staff", "team", "opened_by", "decided_by"]


@admin.register(SecondLook)
class SecondLookAdmin(admin.ModelAdmin[SecondLook]):
    list_display = ["case", "requester", "reviewer", "subject", "due_at", "status"]
    list_filter = ["status", "subject"]
    raw_id_fields = ["case", "requester", "reviewer", "team", "answered_by"]
