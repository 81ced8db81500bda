"""Django's admin, discovered where it is served.

The stock `django.contrib.admin` imports every app's `admin.py` in `django.setup()`, and with
them the services and forms they use: about 40 ms of CPU (7%) of every process's start. A
mail server starts `amends mail ingest` once per message, which never serves the admin. Here
the URLconf (config/urls.py) discovers the admin modules, and so does the admin's own system
check, so `amends check` still checks every registered ModelAdmin.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import SimpleAdminConfig
from django.contrib.admin.checks import check_admin_app, check_dependencies
from django.core import checks


def check_admin_discovered(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    admin.autodiscover()
    return check_admin_app(app_configs, **kwargs)


class AdminConfig(SimpleAdminConfig):
    def ready(self) -> None:
        checks.register(check_dependencies, checks.Tags.admin)
        checks.register(check_admin_discovered, checks.Tags.admin)
