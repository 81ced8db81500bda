from django.contrib import admin
from django.urls import include, path

from amends.api.main import api

# The apps' admin modules are imported here, not at every process's start
# (config/admin_config.py).
admin.autodiscover()
admin.site.site_header = "Amends administration"
admin.site.site_title = "Amends admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("amends.web.urls")),
]
