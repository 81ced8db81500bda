from django.contrib import admin
from django.urls import include, path

from amends.api.main import api

admin.site.site_header = "Amends administration"
admin.site.site_title = "Amends admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("amends.web.urls")),
]
