from django.urls import URLPattern, URLResolver, path

from amends.web.views import remedies

urlpatterns: list[URLPattern | URLResolver] = [
    path("cases/<str:ref>/remedies/", remedies.remedy_panel_view, name="remedy-panel"),
    path(
        "cases/<str:ref>/remedies/headroom/",
        remedies.remedy_headroom_view,
        name="remedy-headroom",
    ),
    path("cases/<str:ref>/remedies/propose/", remedies.remedy_propose_view, name="remedy-propose"),
    path(
        "cases/<str:ref>/remedies/menus/",
        remedies.remedy_menu_create_view,
        name="remedy-menu-create",
    ),
    path(
        "remedy-menus/<int:menu_id>/choose/",
        remedies.remedy_menu_choose_view,
        name="remedy-menu-choose",
    ),
    path("remedies/<int:remedy_id>/issue/", remedies.remedy_issue_view, name="remedy-issue"),
    path("remedies/<int:remedy_id>/cancel/", remedies.remedy_cancel_view, name="remedy-cancel"),
    path("approvals/", remedies.approval_list_view, name="approval-list"),
    path("approvals/badge/", remedies.approval_badge_view, name="approval-badge"),
    path(
        "approvals/<int:remedy_id>/approve/",
        remedies.approval_approve_view,
        name="approval-approve",
    ),
    path(
        "approvals/<int:remedy_id>/reject/", remedies.approval_reject_view, name="approval-reject"
    ),
    path("authority/", remedies.authority_mine_view, name="authority-mine"),
    path("reports/remedies/", remedies.remedy_report_view, name="remedy-report"),
]
