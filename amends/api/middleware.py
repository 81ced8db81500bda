"""API clients always get JSON errors, even from Django's own 404 and 405 responses."""

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

MESSAGES = {
    404: ("not_found", "No such API endpoint."),
    405: ("method_not_allowed", "This endpoint does not accept that method."),
}


class ApiJsonErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code in MESSAGES
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code, message = MESSAGES[response.status_code]
            allow = response.get("Allow")
            response = HttpResponse(
                json.dumps({"code": code, "message": message, "detail": {}}),
                status=response.status_code,
                content_type="application/json",
            )
            if allow:
                response["Allow"] = allow
        return response
