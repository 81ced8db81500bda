from django.urls import include, path

app_name = "web"

# Each area owns its URL module; names stay in the "web:" namespace.
urlpatterns = [
    path("", include("amends.web.urls_desk")),
    path("", include("amends.web.urls_cases")),
    path("", include("amends.web.urls_remedies")),
    path("", include("amends.web.urls_commitments")),
    path("", include("amends.web.urls_feedback")),
    path("", include("amends.web.urls_incidents")),
    path("", include("amends.web.urls_loyalty")),
    path("", include("amends.web.urls_channels")),
    path("", include("amends.web.urls_insight")),
    path("", include("amends.web.urls_account")),
]
