from django.urls import URLPattern, URLResolver, path

from amends.web.views import incidents as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("incidents/", views.incident_list_view, name="incident-list"),
    path("incidents/new/", views.incident_create_view, name="incident-create"),
    path("incidents/<int:incident_id>/", views.incident_detail_view, name="incident-detail"),
    path(
        "incidents/<int:incident_id>/progress/",
        views.incident_progress_view,
        name="incident-progress",
    ),
    path(
        "incidents/<int:incident_id>/affected/",
        views.incident_affected_upload_view,
        name="incident-affected",
    ),
    path(
        "incidents/<int:incident_id>/preview/",
        views.incident_preview_view,
        name="incident-preview",
    ),
    path("incidents/<int:incident_id>/notify/", views.incident_notify_view, name="incident-notify"),
    path("incidents/<int:incident_id>/status/", views.incident_status_view, name="incident-status"),
    path(
        "incidents/<int:incident_id>/updates/", views.incident_update_view, name="incident-update"
    ),
    path("incidents/<int:incident_id>/close/", views.incident_close_view, name="incident-close"),
    path("i/<str:token>/", views.incident_link_view, name="incident-link"),
    path("i/<str:token>/open/", views.incident_link_open_view, name="incident-link-open"),
]
