"""The mass-failure part of the demo: a delayed flight under the EU 261/2004 policy.

A manager owns the policy (the real EU261 table, `amends.incidents.eu261`); a supervisor
declares a 3 h 40 min arrival delay, adds the passengers with their policy inputs (distance of
their journey, intra-EU or not, re-routing delay, an overnight wait), posts a public update and
sends the first notice; then some passengers open their link, a few go on to choose their
remedy in the portal. Everything goes through the real services (the round is worked off to
the end here, as the worker would; its emails wait in the outbox for `amends worker`)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.contrib.auth.models import User

from amends.accounts.choices import Role
from amends.incidents.choices import RoundKind
from amends.incidents.eu261 import EU261_REMEDY_KINDS, eu261_rules
from amends.incidents.models import Impact
from amends.incidents.selectors import incident_kind_list
from amends.incidents.services.impacts import AffectedRow, impacts_add
from amends.incidents.services.incidents import incident_create, incident_update_post
from amends.incidents.services.links import impact_mark_opened, impact_open
from amends.incidents.services.notify import round_run_to_end, round_start
from amends.incidents.services.policies import policy_create
from amends.remedies.models import RemedyKind
from amends.remedies.selectors import menu_list_for_case
from amends.remedies.services.matrix import authority_rule_set
from amends.remedies.services.menus import menu_choose

# One first name each (passengers of a Lisbon-Paris flight, some connecting to Berlin).
FIRST = [
    "Inês", "Joaquim", "Gonçalo", "Rui", "Leonor", "Matilde", "Tiago", "Beatriz", "Duarte",
    "Afonso", "Clémence", "Théo", "Margaux", "Baptiste", "Solène", "Gaspard", "Anaïs",
    "Quentin", "Maëlle", "Bastien", "Jürgen", "Lotte", "Henrik", "Wiebke", "Friedrich",
    "Aurélie", "Rodrigo", "Salomé", "Mathis", "Capucine",
]  # fmt: skip
LAST = ["Silva", "Moreau", "Costa", "Dubois", "Ferreira", "Laurent", "Santos", "Weber"]
# (share of the passengers, distance of their journey in km, intra-EU): Lisbon-Paris itself,
# connections on to Berlin, and to Montreal (outside the EU, long haul).
JOURNEYS: list[tuple[int, int, bool]] = [(6, 1450, True), (3, 2320, True), (1, 6640, False)]
PASSENGERS = 30


def _remedy_kinds_and_authority() -> None:
    """The remedy kinds the EU261 rules give (reference data, made as the admin would) and the
    managers' authority to grant them (the policy owner pre-authorises its remedies)."""
    for position, (code, name, monetary) in enumerate(EU261_REMEDY_KINDS, start=50):
        RemedyKind.objects.get_or_create(
            code=code, defaults={"name": name, "monetary": monetary, "position": position}
        )
        authority_rule_set(
            kind=code,
            role=Role.MANAGER,
            actor=None,
            max_per_remedy="1000.00" if monetary else None,
            source="demo",
        )


def _rows(rng: random.Random) -> list[AffectedRow]:
    journeys = [j for share, *rest in JOURNEYS for j in [tuple(rest)] * share]
    rows = []
    for index in range(PASSENGERS):
        distance, intra_eu = journeys[index % len(journeys)]
        inputs: dict[str, object] = {"distance_km": distance, "intra_eu": intra_eu}
        if index % 7 == 3:
            inputs["overnight"] = True  # missed the last connection: a hotel is owed
        if index % 9 == 5:
            inputs["reroute_delay_minutes"] = 110  # re-routed, arrived within 2 hours: halved
        name = f"{FIRST[index % len(FIRST)]} {rng.choice(LAST)}"
        rows.append(
            AffectedRow(
                external_ref=f"TP-PNR-{4100 + index}",
                name=name,
                email=f"passenger.{4100 + index}@example.com",
                inputs=inputs,
                line=index,
            )
        )
    return rows


def demo_incident_build(
    *, rng: random.Random, now: datetime, users: dict[str, User]
) -> dict[str, int]:
    """Run after the staff exist. Returns counts of what it made."""
    manager, supervisor = users["morgan"], users["sky"]
    _remedy_kinds_and_authority()
    kind = next(k for k in incident_kind_list() if k.code == "flight_delay")
    policy_create(
        kind=kind,
        name="EU 261/2004",
        rules=eu261_rules(),
        owner=manager,
        actor=manager,
        note="Regulation (EC) No 261/2004: compensation by distance band, care by delay.",
    )
    incident = incident_create(
        title="TP 438 Lisbon-Paris arrived 3 h 40 min late",
        kind="flight_delay",
        magnitude=220,
        started_at=now - timedelta(hours=7),
        ended_at=now - timedelta(hours=3),
        severity=2,
        public_description=(
            "Flight TP 438 from Lisbon to Paris Orly left 3 h 25 min late after a technical "
            "fault on the inbound aircraft and arrived 3 h 40 min after schedule."
        ),
        internal_notes="Hydraulic pump replaced at LIS; spare was at OPO.",
        actor=supervisor,
    )
    # The passengers come from the airline's booking list: new customers to us.
    added = impacts_add(incident=incident, rows=_rows(rng), actor=supervisor, create_missing=True)
    incident_update_post(
        incident=incident,
        body="Passengers who missed their connection in Paris are rebooked on the next flight.",
        public=True,
        actor=supervisor,
    )
    notice = round_start(incident=incident, kind=RoundKind.INITIAL, actor=supervisor)
    round_run_to_end(notice=notice)
    # How the passengers took it: most read the notice; some opened their link; a few chose.
    impacts = list(Impact.objects.filter(incident=incident).order_by("id"))
    opened = chose = 0
    for index, impact in enumerate(impacts):
        if index % 3 == 0:
            continue  # never opened the link
        impact_mark_opened(impact=impact)
        opened += 1
        if index % 4 != 1:
            continue
        impact_open(impact=impact)  # "Choose my remedy": their case opens with the menu
        impact.refresh_from_db()
        if impact.menu_id is None:
            continue
        assert impact.case is not None  # noqa: S101  # impact_open opened it
        [menu] = menu_list_for_case(case=impact.case, open_only=True)
        options = sorted(menu.options.all(), key=lambda option: option.pk)
        # Every other chooser takes the voucher worth 20% more, the rest the money.
        pick = options[-1] if chose % 2 else options[0]
        menu_choose(menu=menu, remedy_id=pick.pk, actor=None)
        chose += 1
    return {"incident": incident.pk, "affected": added.added, "opened": opened, "chose": chose}
