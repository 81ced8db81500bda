"""The signed-in staff member's own settings (their time zone), and the site icon."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods

from amends.accounts.selectors import staff_profile_of
from amends.accounts.services import staff_time_zone_set
from amends.core.organisation import organisation
from amends.core.types import AuthedRequest
from amends.web.decorators import staff_required
from amends.web.forms.account import PreferencesForm


@staff_required
@require_http_methods(["GET", "POST"])
def preferences_view(request: AuthedRequest) -> HttpResponse:
    profile = staff_profile_of(user=request.user)
    org_zone = organisation().time_zone
    if request.method == "POST":
        form = PreferencesForm(request.POST, organisation_zone=org_zone)
        if form.is_valid():
            staff_time_zone_set(user=request.user, time_zone=form.cleaned_data["time_zone"])
            messages.success(request, "Your preferences are saved.")
            return HttpResponseRedirect(reverse("web:preferences"))
        status = 422
    else:
        form = PreferencesForm(initial={"time_zone": profile.time_zone}, organisation_zone=org_zone)
        status = 200
    return render(
        request,
        "web/preferences.html",
        {"form": form, "profile": profile, "organisation_zone": org_zone},
        status=status,
    )


@require_GET
@cache_control(max_age=86400, public=True)
def favicon_view(request: HttpRequest) -> FileResponse:
    """Browsers ask for /favicon.ico on every site; answer with the static icon."""
    path = finders.find("web/favicon.ico")
    if not path:
        raise Http404
    return FileResponse(open(path, "rb"), content_type="image/x-icon")
