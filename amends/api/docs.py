"""`/api/docs`: Swagger UI from our own static files (amends/api/static/api/swagger-ui, vendored
from npm swagger-ui-dist 5.35.0), so the page loads nothing from outside the server."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja.openapi.docs import DocsBase

if TYPE_CHECKING:
    from ninja import NinjaAPI

SWAGGER_UI_VERSION = "5.35.0"


class LocalSwagger(DocsBase):
    template = "api/swagger.html"

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        settings = {
            "url": self.get_openapi_url(api, kwargs),
            "layout": "BaseLayout",
            "deepLinking": True,
            # The default validator badge would call validator.swagger.io.
            "validatorUrl": None,
        }
        context = {"api": api, "swagger_settings": json.dumps(settings)}
        return render(request, self.template, context)
