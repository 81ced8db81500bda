from django.urls import URLPattern, URLResolver, path

from amends.web.views import feedback as views

urlpatterns: list[URLPattern | URLResolver] = [
    # The customer's survey page: no account, a signed link.
    path("survey/<str:token>/", views.survey_page_view, name="survey"),
    path("survey/<str:token>/opt-out/", views.survey_opt_out_view, name="survey-opt-out"),
    # Staff pages.
    path("feedback/kpis/", views.kpi_view, name="feedback-kpis"),
    path("feedback/kpis/<str:measure>/", views.kpi_drill_view, name="feedback-kpi-drill"),
    path("feedback/champions/", views.champions_view, name="feedback-champions"),
    path("feedback/surveys/", views.survey_list_view, name="feedback-surveys"),
    path("feedback/surveys/exclude/", views.survey_exclude_view, name="feedback-survey-exclude"),
    path("feedback/follow-ups/", views.follow_up_list_view, name="feedback-follow-ups"),
    path(
        "feedback/follow-ups/<int:follow_up_id>/done/",
        views.follow_up_complete_view,
        name="feedback-follow-up-done",
    ),
    path("feedback/second-looks/", views.second_look_list_view, name="feedback-second-looks"),
    path(
        "feedback/second-looks/new/",
        views.second_look_request_view,
        name="feedback-second-look-new",
    ),
    path(
        "feedback/second-looks/<int:look_id>/answer/",
        views.second_look_answer_view,
        name="feedback-second-look-answer",
    ),
    path("feedback/reviews/", views.review_list_view, name="feedback-reviews"),
    path("feedback/reviews/new/", views.review_open_view, name="feedback-review-new"),
    path(
        "feedback/reviews/<int:review_id>/",
        views.review_detail_view,
        name="feedback-review-detail",
    ),
    path(
        "feedback/reviews/<int:review_id>/account/",
        views.review_account_view,
        name="feedback-review-account",
    ),
    path(
        "feedback/reviews/<int:review_id>/decide/",
        views.review_decide_view,
        name="feedback-review-decide",
    ),
    path("people/<str:username>/", views.profile_view, name="feedback-profile"),
    path(
        "people/<str:username>/compliments/",
        views.compliment_log_view,
        name="feedback-compliment-log",
    ),
]
