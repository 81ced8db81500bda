from django.urls import path

from amends.web.views import channels, portal, report

# Public pages (no login): the complaint form and the customer portal; and the staff views
# of a case's emails and files.
urlpatterns = [
    path("report", report.report_view, name="report"),
    path("report/done", report.report_done_view, name="report-done"),
    path("c/new-link", portal.portal_link_request_view, name="portal-link-request"),
    path("c/<str:token>", portal.portal_view_page, name="portal"),
    path("c/<str:token>/reply", portal.portal_reply_view, name="portal-reply"),
    path("c/<str:token>/choose", portal.portal_choose_view, name="portal-choose"),
    path(
        "c/<str:token>/files/<int:attachment_id>",
        portal.portal_attachment_view,
        name="portal-attachment",
    ),
    path(
        "cases/<str:ref>/attachments/<int:attachment_id>/",
        channels.case_attachment_view,
        name="case-attachment",
    ),
    path(
        "cases/<str:ref>/emails/<int:email_id>/original/",
        channels.case_email_original_view,
        name="case-email-original",
    ),
    path(
        "cases/<str:ref>/emails/<int:email_id>/retry/",
        channels.case_email_retry_view,
        name="case-email-retry",
    ),
]
