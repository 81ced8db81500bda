from django.urls import URLPattern, URLResolver, path

from amends.web.views import insight

urlpatterns: list[URLPattern | URLResolver] = [
    path("cases/<str:ref>/insight/", insight.insight_panel_view, name="insight-panel"),
    path(
        "cases/<str:ref>/insight/apology-check/",
        insight.apology_check_view,
        name="insight-apology-check",
    ),
    path(
        "cases/<str:ref>/insight/triage/accept/",
        insight.triage_accept_view,
        name="insight-triage-accept",
    ),
    path(
        "insight/scores/<int:score_id>/correct/",
        insight.score_correct_view,
        name="insight-score-correct",
    ),
    path("insight/queue/", insight.insight_queue_view, name="insight-queue"),
    path("insight/coaching/", insight.coaching_view, name="insight-coaching"),
]
