from django.urls import URLPattern, URLResolver, path

from amends.web.views import commitments as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("promises/", views.promises_due_view, name="promises-due"),
    path("promises/measures/", views.promise_measures_view, name="promise-measures"),
    path("cases/<str:ref>/commitments/", views.commitment_create_view, name="commitment-create"),
    path(
        "commitments/<int:commitment_id>/keep/",
        views.commitment_keep_view,
        name="commitment-keep",
    ),
    path(
        "commitments/<int:commitment_id>/evidence/",
        views.commitment_evidence_view,
        name="commitment-evidence",
    ),
    path(
        "commitments/<int:commitment_id>/cancel/",
        views.commitment_cancel_view,
        name="commitment-cancel",
    ),
    path(
        "commitments/<int:commitment_id>/reschedule/",
        views.commitment_reschedule_view,
        name="commitment-reschedule",
    ),
    path("escalations/", views.escalation_list_view, name="escalation-list"),
    path("cases/<str:ref>/escalations/", views.escalation_raise_view, name="escalation-raise"),
    path(
        "escalations/<int:escalation_id>/decide/",
        views.escalation_decide_view,
        name="escalation-decide",
    ),
    path("notifications/", views.notification_list_view, name="notification-list"),
    path("notifications/bell/", views.notification_bell_view, name="notification-bell"),
    path(
        "notifications/<int:notification_id>/read/",
        views.notification_read_view,
        name="notification-read",
    ),
    path(
        "notifications/read-all/",
        views.notification_read_all_view,
        name="notification-read-all",
    ),
]
