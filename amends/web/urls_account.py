from django.urls import path

from amends.web.views import account

urlpatterns = [
    path("me/", account.preferences_view, name="preferences"),
    path("favicon.ico", account.favicon_view, name="favicon"),
]
