from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "amends.loyalty"
    label = "loyalty"
    default_auto_field = "django.db.models.BigAutoField"
