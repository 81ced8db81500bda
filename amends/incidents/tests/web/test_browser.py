"""End to end in Chromium: an analyst declares a delay, uploads the affected passengers,
previews and sends the notice; a passenger follows their link, picks a remedy in the portal;
the incident's counters move."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from amends.channels.models import OutboundEmail
from amends.incidents.models import Incident, NotificationRound
from amends.incidents.services.notify import round_run_to_end
from amends.incidents.sweeps import choices_sweep
from amends.incidents.tests.conftest import Ops
from amends.incidents.tests.factories import customers_make
from amends.remedies.models import ChoiceMenu


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_declare_upload_preview_send_then_a_passenger_chooses(
    ops: Ops,
    page: Any,
    login: Any,
    live_server: Any,
    browser: Any,
    tmp_path: Path,
    settings: Any,
) -> None:
    settings.AMENDS = {**settings.AMENDS, "PUBLIC_BASE_URL": live_server.url}
    customers_make(3)
    page.set_default_timeout(60_000)  # a loaded CI machine is slow, not wrong
    login(ops.analyst)

    # Declare the delay.
    page.goto(f"{live_server.url}/incidents/")
    form = page.locator("#incident-declare")
    form.locator("input[name=title]").fill("AB123 Lisbon-Paris delayed")
    form.locator("select[name=kind]").select_option("flight_delay")
    form.locator("input[name=magnitude]").fill("200")
    form.locator("input[name=started_at]").fill("2026-01-05T09:30")
    form.locator("select[name=severity]").select_option("2")
    form.locator("textarea[name=public_description]").fill("Your flight arrived 3h20 late.")
    form.get_by_role("button", name="Declare").click()
    page.wait_for_url(re.compile(r".*/incidents/\d+/$"))
    incident = Incident.objects.get(title="AB123 Lisbon-Paris delayed")
    assert incident.policy_id == ops.policy.pk

    # Upload the passengers.
    csv = tmp_path / "pax.csv"
    csv.write_text(
        "external_ref,distance_km,intra_eu\nP-0,800,true\nP-1,2100,true\nP-2,4000,false\n",
        encoding="utf-8",
    )
    page.locator("#upload-form input[type=file]").set_input_files(str(csv))
    page.get_by_role("button", name="Upload").click()
    page.locator("[data-upload=summary]").get_by_text("Added 3").wait_for()

    # Preview, then send to all.
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("[data-preview=body]")
    preview.wait_for()
    assert "Dear Passenger 0" in preview.inner_text()
    page.get_by_role("button", name="Send to all").click()
    page.wait_for_url(re.compile(r".*/incidents/\d+/$"))
    round_run_to_end(notice=NotificationRound.objects.get(incident=incident))  # the worker
    page.reload()
    assert page.locator("[data-counter=notified]").inner_text() == "3"
    assert page.locator("[data-round-status]").get_attribute("data-round-status") == "done"

    # A passenger opens their link (not signed in), goes on to choose, picks in the portal.
    email = OutboundEmail.objects.get(to="p1@example.com")
    link = re.search(r"https?://\S+/i/\S+/", email.body)
    assert link is not None
    path = link.group(0).split("/i/", 1)[1]
    passenger = browser.new_context(viewport={"width": 390, "height": 844})
    passenger.set_default_timeout(60_000)
    phone = passenger.new_page()
    phone.goto(f"{live_server.url}/i/{path}")
    assert "400.00 EUR" in phone.locator("main").inner_text()
    phone.get_by_role("button", name="Choose my remedy").click()
    phone.wait_for_url(re.compile(r".*/c/.+"))
    phone.get_by_label(re.compile(r"Voucher")).check()
    phone.get_by_role("button", name="Confirm my choice").click()
    phone.get_by_text("you chose").wait_for()
    passenger.close()
    menu = ChoiceMenu.objects.get()
    assert menu.status == "chosen"

    # The analyst's page shows the passenger opened, chose, and what it cost (the remedies
    # hook moves "chose" at once; the worker's sweep catches it if the hook was missed).
    choices_sweep(now=timezone.now())
    page.reload()
    assert page.locator("[data-counter=opened]").inner_text() == "1"
    assert page.locator("[data-counter=chose]").inner_text() == "1"
    assert page.locator("[data-counter=cost]").inner_text().startswith("480.00")
