from django.urls import URLPattern, URLResolver, path

from amends.web.views import loyalty

urlpatterns: list[URLPattern | URLResolver] = [
    path("loyalty/", loyalty.loyalty_dashboard_view, name="loyalty-dashboard"),
    path("loyalty/operations/", loyalty.loyalty_operations_view, name="loyalty-operations"),
    path("loyalty/paradox/", loyalty.loyalty_paradox_view, name="loyalty-paradox"),
    path("loyalty/at-risk/", loyalty.loyalty_at_risk_view, name="loyalty-at-risk"),
    path("loyalty/cases/", loyalty.loyalty_cases_view, name="loyalty-cases"),
    path(
        "loyalty/cancellations/",
        loyalty.loyalty_cancellations_view,
        name="loyalty-cancellations",
    ),
    path("loyalty/campaigns/", loyalty.loyalty_campaigns_view, name="loyalty-campaigns"),
    path(
        "loyalty/campaigns/<int:campaign_id>/",
        loyalty.loyalty_campaign_view,
        name="loyalty-campaign",
    ),
    path(
        "loyalty/campaigns/<int:campaign_id>/launch/",
        loyalty.loyalty_campaign_launch_view,
        name="loyalty-campaign-launch",
    ),
    path(
        "loyalty/campaigns/<int:campaign_id>/customers/<int:customer_id>/",
        loyalty.loyalty_campaign_target_view,
        name="loyalty-campaign-target",
    ),
    path(
        "customers/<int:customer_id>/loyalty-status/",
        loyalty.loyalty_status_view,
        name="loyalty-status",
    ),
]
