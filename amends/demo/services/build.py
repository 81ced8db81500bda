"""The demo organisation behind `amends seed-demo`.

Everything a user will click on is made by the real services (staff_create, customer_create,
case_create, the workflow actions, case_message_add), so the demo cases have exactly the
steps, SLA clocks, versions and timeline events that real ones have. Reference data without a
service of its own (calendar, taxonomy, playbooks, SLA targets) is created like the admin does.

Back-dating. Services stamp everything with "now", but a believable queue needs cases opened
hours, days or weeks ago, some still on track, some at risk, some breached. We do not fake the
clock (no test libraries at runtime, no monkeypatched `timezone.now`). Instead each case is
worked through the services in one go, recording the real instant before each action together
with the past instant that action is meant to have happened at; afterwards every timestamp of
the case, its steps, messages and events is moved back by its action's offset (so each action
keeps its own time and the timeline reads naturally), and the SLA clocks are recomputed with
the same code the services use (`sla_compute`) from the moved clock starts and the business
time the case really spent awaiting the customer. The timeline events that quote due times or
"on time" are corrected to match.

Deterministic for a given seed (relative to the moment it runs). Complaint texts come from the
public-domain CFPB complaints file when it is present (`../shared/data/cfpb_complaints_dev.csv`
next to the repository, or AMENDS_DEMO_CFPB_CSV), else from the built-in samples below.
"""

from __future__ import annotations

import csv
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.models import Team
from amends.accounts.services import staff_create
from amends.cases.choices import CaseEventKind, CaseStatus, MessageDirection, Outcome
from amends.cases.models import Case, CaseEvent, CaseStep, Message
from amends.cases.services.intake import case_create
from amends.cases.services.messages import case_message_add
from amends.cases.services.sla import sla_compute, sla_policy_of
from amends.cases.services.workflow import (
    case_acknowledge,
    case_assign,
    case_close,
    case_reopen,
    case_resolve,
    case_step_done,
    case_step_skip,
)
from amends.core.organisation import organisation_save
from amends.customers.choices import CustomerTier, LoyaltyStatus
from amends.customers.models import Customer
from amends.customers.services import customer_get_or_create_by_ref
from amends.demo.services.incidents import demo_incident_build
from amends.demo.services.recovery import demo_recovery_build
from amends.policies.business_hours import add_business_time, business_time_between
from amends.policies.choices import RecoveryStep, StepDue
from amends.policies.models import Calendar, Holiday, Playbook, PlaybookStep, SlaTarget
from amends.policies.selectors import SlaPolicy, playbook_for_category, sla_policy_for
from amends.taxonomy.models import Category, Service

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105  # a published demo password, not a secret
DEMO_ORGANISATION = "Amends Demo Ltd"
CFPB_ENV = "AMENDS_DEMO_CFPB_CSV"

# (username, role, team, first name, last name)
STAFF: list[tuple[str, str, str | None, str, str]] = [
    ("alex", Role.AGENT, "Billing care", "Alex", "Carter"),
    ("priya", Role.AGENT, "Billing care", "Priya", "Shah"),
    ("sam", Role.AGENT, "Network care", "Sam", "Okafor"),
    ("lee", Role.AGENT, "Network care", "Lee", "Chen"),
    ("jo", Role.AGENT, "Travel recovery", "Jo", "Lindqvist"),
    ("ravi", Role.AGENT, "Travel recovery", "Ravi", "Patel"),
    ("nia", Role.AGENT, "Banking care", "Nia", "Roberts"),
    ("kai", Role.AGENT, "Banking care", "Kai", "Morris"),
    ("sky", Role.SUPERVISOR, "Billing care", "Sky", "Adeyemi"),
    ("morgan", Role.MANAGER, None, "Morgan", "Hughes"),
    ("admin", Role.ADMIN, None, "Ada", "Admin"),
]

# England and Wales bank holidays around now.
HOLIDAYS: list[tuple[str, str]] = [
    ("2025-12-25", "Christmas Day"),
    ("2025-12-26", "Boxing Day"),
    ("2026-01-01", "New Year's Day"),
    ("2026-04-03", "Good Friday"),
    ("2026-04-06", "Easter Monday"),
    ("2026-05-04", "Early May bank holiday"),
    ("2026-05-25", "Spring bank holiday"),
    ("2026-08-31", "Summer bank holiday"),
    ("2026-12-25", "Christmas Day"),
    ("2026-12-28", "Boxing Day (substitute day)"),
    ("2027-01-01", "New Year's Day"),
    ("2027-03-26", "Good Friday"),
    ("2027-03-29", "Easter Monday"),
]

ALL_STEPS: list[tuple[str, bool]] = [
    (RecoveryStep.ACKNOWLEDGE, True),
    (RecoveryStep.APOLOGISE, True),
    (RecoveryStep.EMPATHISE, False),
    (RecoveryStep.RECTIFY, True),
    (RecoveryStep.COMPENSATE, False),
    (RecoveryStep.FOLLOW_UP, True),
    (RecoveryStep.PREVENT, False),
]

# name -> (category it serves or None for the default, steps, {severity: (ack, resolve)} in
# business minutes)
PLAYBOOKS: dict[str, tuple[str | None, list[tuple[str, bool]], dict[int, tuple[int, int]]]] = {
    "Standard recovery": (
        None,
        ALL_STEPS,
        {
            1: (30, 8 * 60),
            2: (60, 2 * 10 * 60),
            3: (4 * 60, 5 * 10 * 60),
            4: (8 * 60, 10 * 10 * 60),
        },
    ),
    "Billing disputes": (
        "Billing",
        [
            (RecoveryStep.ACKNOWLEDGE, True),
            (RecoveryStep.APOLOGISE, True),
            (RecoveryStep.RECTIFY, True),
            (RecoveryStep.COMPENSATE, True),
            (RecoveryStep.FOLLOW_UP, True),
            (RecoveryStep.PREVENT, False),
        ],
        {1: (30, 4 * 60), 2: (60, 10 * 60), 3: (2 * 60, 3 * 10 * 60), 4: (4 * 60, 5 * 10 * 60)},
    ),
    "Travel disruption": (
        "Travel",
        [
            (RecoveryStep.ACKNOWLEDGE, True),
            (RecoveryStep.APOLOGISE, True),
            (RecoveryStep.EMPATHISE, True),
            (RecoveryStep.RECTIFY, True),
            (RecoveryStep.COMPENSATE, True),
            (RecoveryStep.FOLLOW_UP, True),
            (RecoveryStep.PREVENT, False),
        ],
        {1: (15, 4 * 60), 2: (30, 8 * 60), 3: (60, 2 * 10 * 60), 4: (4 * 60, 5 * 10 * 60)},
    ),
}

SERVICES = ["Broadband", "Mobile", "Billing", "Flights", "Current account", "Credit card", "Loans"]

# Built-in complaints: team -> parent category -> child category -> service -> samples of
# (title, the customer's account, what they expected, what was delivered).
Sample = tuple[str, str, str, str]
DOMAINS: dict[str, tuple[str, str, dict[str, list[Sample]]]] = {
    "Billing care": (
        "Billing",
        "Billing",
        {
            "Overcharged": [
                (
                    "Charged twice for the same month",
                    "My bank statement shows two payments of the monthly fee this month. I have "
                    "one contract and nobody told me about any extra charge.",
                    "One monthly payment, as in my contract",
                    "Two identical payments taken three days apart",
                ),
                (
                    "Price rise applied before the notice period ended",
                    "The letter said the new price would start in two months but it was already "
                    "on this bill.",
                    "The old price until the date in the letter",
                    "The new price charged a month early",
                ),
            ],
            "Refund not received": [
                (
                    "Refund promised six weeks ago never arrived",
                    "An adviser promised a refund for the outage in writing. It has not arrived "
                    "and every call ends with 'it is being processed'.",
                    "The refund within 10 working days, as promised",
                    "No refund and no explanation after six weeks",
                ),
            ],
            "Direct debit error": [
                (
                    "Direct debit taken after I cancelled",
                    "I closed my account and got a confirmation email, but you took another "
                    "payment on the 1st.",
                    "No further payments after the confirmed cancellation",
                    "A full month's payment taken from my account",
                ),
            ],
        },
    ),
    "Network care": (
        "Network",
        "Broadband",
        {
            "Broadband outage": [
                (
                    "No broadband for four days",
                    "My connection dropped on Monday and has not come back. I work from home and "
                    "have lost two days of work.",
                    "A working connection, or a fix within a day as advertised",
                    "No service for four days and no engineer booked",
                ),
                (
                    "Connection drops every evening",
                    "Every evening between 7 and 10 the connection drops out for minutes at a "
                    "time. The router has been reset many times.",
                    "A stable connection in the evenings",
                    "Repeated drop-outs every night for three weeks",
                ),
            ],
            "Engineer missed appointment": [
                (
                    "Engineer did not turn up",
                    "I took a day off work for the engineer visit between 8 and 1. Nobody came "
                    "and nobody called.",
                    "The engineer in the booked slot, or a call if delayed",
                    "No visit, no call, a wasted day's leave",
                ),
            ],
            "Mobile signal": [
                (
                    "No mobile signal at home since the mast work",
                    "Since the works on the local mast I have had no signal at home and miss "
                    "calls from my doctor.",
                    "Usable signal at my address, as the coverage checker shows",
                    "No signal indoors for two weeks",
                ),
            ],
        },
    ),
    "Travel recovery": (
        "Travel",
        "Flights",
        {
            "Flight delayed": [
                (
                    "Seven-hour delay with no food vouchers",
                    "Our flight was delayed seven hours. Staff at the gate had no information and "
                    "no meal vouchers were given, even to my children.",
                    "Care during the delay and compensation as the rules require",
                    "Seven hours at the gate with nothing offered",
                ),
            ],
            "Flight cancelled": [
                (
                    "Flight cancelled the night before, no rebooking offered",
                    "We got a text at 11pm saying the flight was cancelled. The app offered no "
                    "alternative and the phone line was closed.",
                    "A new flight the same day or a full refund",
                    "A cancellation text and nothing else",
                ),
            ],
            "Lost baggage": [
                (
                    "Suitcase lost for nine days",
                    "My suitcase did not arrive and the tracking page has said 'tracing' for nine "
                    "days. I have had to buy clothes for a work trip.",
                    "My bag on the carousel, or delivered within a day",
                    "No bag for nine days and no answer to my emails",
                ),
            ],
        },
    ),
    "Banking care": (
        "Banking",
        "Current account",
        {
            "Card declined": [
                (
                    "Card declined abroad despite travel notice",
                    "I told the bank about my trip in the app, but my card was declined at the "
                    "hotel and I could not reach anyone.",
                    "My card working abroad as set up in the app",
                    "Card blocked for two days, no way to pay the hotel",
                ),
            ],
            "Account access": [
                (
                    "Locked out of online banking for a week",
                    "After the app update I cannot log in. The reset code never arrives and the "
                    "branch told me to call the helpline.",
                    "Access to my account",
                    "A week without online banking and three unanswered calls",
                ),
            ],
            "Unexpected fees": [
                (
                    "Overdraft fee charged on a day I was in credit",
                    "I was charged an overdraft fee although my balance never went below zero.",
                    "No fee while my account is in credit",
                    "A fee of £25 taken from my account",
                ),
            ],
        },
    ),
}

FIRST_NAMES = [
    "Ada", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace", "Hamza", "Isla", "Jack", "Kiran",
    "Lucy", "Mo", "Nadia", "Oscar", "Poppy", "Quinn", "Rosa", "Sanjay", "Tara", "Umar",
    "Vera", "Will", "Xena", "Yusuf", "Zoe", "Aisha", "Callum", "Daniel", "Eilidh", "Fatima",
    "George", "Harriet", "Imran", "Jasmine", "Kofi", "Leah", "Marcus", "Niamh", "Olu", "Priya",
    "Rhys", "Siobhan", "Tom", "Ursula", "Victor", "Wendy", "Aaron", "Bethan", "Conor",
    "Deborah", "Emeka", "Freya", "Gareth", "Hannah", "Ian", "Joanna", "Liam", "Megan", "Noah",
]  # fmt: skip
LAST_NAMES = [
    "Lee", "Ahmed", "Brown", "Campbell", "Davies", "Evans", "Fraser", "Green", "Hussain",
    "Iqbal", "Jones", "Khan", "Lewis", "Murphy", "Nowak", "O'Brien", "Price", "Quigley",
    "Reid", "Singh", "Taylor", "Usman", "Walsh", "Young",
]  # fmt: skip
SPECIAL_REASONS = [
    "Hearing impaired: prefers written contact",
    "Recently bereaved: handle with extra care",
    "Financial hardship: check before any charges",
    "Vulnerable customer: speak to their named carer",
]
INBOUND_REPLIES = [
    "Thanks for getting back to me. Yes, that is the right account.",
    "I've attached the screenshot you asked for.",
    "That works for me, thank you.",
    "I still haven't heard anything since your last email. What is happening?",
]
NOT_UPHELD_EXPLANATIONS = [
    "Our records show the service worked as described in the contract; we've explained why.",
    "The charge was correct under the terms agreed at sign-up; we've sent a copy.",
]


@dataclass
class Complaint:
    team: str
    category: Category
    service: Service | None
    title: str
    description: str
    expected: str
    delivered: str
    channel: str


@dataclass
class DemoResult:
    cases: int = 0
    customers: int = 0
    staff: list[tuple[str, str, str]] = field(default_factory=list)
    source: str = "built-in samples"
    skipped: bool = False
    recovery: dict[str, int] = field(default_factory=dict)
    incident: dict[str, int] = field(default_factory=dict)


def _shared_data_file(env: str, filename: str) -> Path | None:
    """A data file named by the environment variable `env`, else ../shared/data/`filename`;
    None when it is not there."""
    configured = os.environ.get(env)
    base_dir = Path(settings.BASE_DIR)  # type: ignore[misc]  # from config.env; unknown to the stubs
    path = Path(configured) if configured else base_dir.parent / "shared" / "data" / filename
    return path if path.is_file() else None


def cfpb_csv_path() -> Path | None:
    """The CFPB complaints file if present: AMENDS_DEMO_CFPB_CSV or ../shared/data/…."""
    return _shared_data_file(CFPB_ENV, "cfpb_complaints_dev.csv")


NARRATIVES_ENV = "AMENDS_DEMO_NARRATIVES_CSV"


def narratives_csv_path() -> Path | None:
    """The labelled CFPB narratives the demo trains its triage model on, if present:
    AMENDS_DEMO_NARRATIVES_CSV or ../shared/data/cfpb_narratives_product_dev.csv."""
    return _shared_data_file(NARRATIVES_ENV, "cfpb_narratives_product_dev.csv")


# ---- reference data -----------------------------------------------------------------------


def _calendar() -> Calendar:
    calendar = Calendar.objects.filter(name="UK office hours").first()
    if calendar is None:
        calendar = Calendar(
            name="UK office hours",
            timezone="Europe/London",
            hours={day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
            is_default=not Calendar.objects.filter(is_default=True).exists(),
        )
        calendar.full_clean()
        calendar.save()
        Holiday.objects.bulk_create(
            [
                Holiday(calendar=calendar, date=date.fromisoformat(day), name=name)
                for day, name in HOLIDAYS
            ]
        )
    return calendar


def _category(name: str, parent: Category | None = None) -> Category:
    category, _ = Category.objects.get_or_create(name=name[:100], parent=parent)
    return category


def _service(name: str) -> Service:
    service, _ = Service.objects.get_or_create(name=name[:100])
    return service


def _playbooks(calendar: Calendar) -> None:
    for name, (category_name, steps, targets) in PLAYBOOKS.items():
        if Playbook.objects.filter(name=name).exists():
            continue
        category = _category(category_name) if category_name else None
        if category is not None and Playbook.objects.filter(category=category).exists():
            continue
        is_default = category is None and not Playbook.objects.filter(is_default=True).exists()
        playbook = Playbook.objects.create(
            name=name, category=category, is_default=is_default, calendar=calendar
        )
        PlaybookStep.objects.bulk_create(
            [
                PlaybookStep(
                    playbook=playbook,
                    step=step,
                    required=required,
                    position=index,
                    # The follow-up call comes after the fix.
                    due=StepDue.BEFORE_CLOSE
                    if step == RecoveryStep.FOLLOW_UP
                    else StepDue.BEFORE_RESOLVE,
                )
                for index, (step, required) in enumerate(steps)
            ]
        )
        SlaTarget.objects.bulk_create(
            [
                SlaTarget(
                    playbook=playbook, severity=sev, acknowledge_minutes=ack, resolve_minutes=res
                )
                for sev, (ack, res) in targets.items()
            ]
        )


def _staff() -> dict[str, User]:
    users: dict[str, User] = {}
    for username, role, team, first, last in STAFF:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = staff_create(
                username=username,
                role=role,
                team_name=team,
                password=DEMO_PASSWORD,
                email=f"{username}@amends.example",
                first_name=first,
                last_name=last,
            )
        users[username] = user
    return users


def _customers(rng: random.Random, count: int, today: date) -> list[Customer]:
    customers = []
    # Every first name once before any repeats (no five Poppys), surnames spread across them.
    firsts = list(FIRST_NAMES)
    rng.shuffle(firsts)
    for index in range(count):
        first = firsts[index % len(firsts)]
        last = LAST_NAMES[(index * 7 + index // len(firsts)) % len(LAST_NAMES)]
        special = rng.random() < 0.08
        roll = rng.random()
        loyalty = (
            LoyaltyStatus.AT_RISK
            if roll < 0.12
            else LoyaltyStatus.LOST
            if roll < 0.16
            else LoyaltyStatus.WON_BACK
            if roll < 0.22
            else LoyaltyStatus.ACTIVE
        )
        customers.append(
            customer_get_or_create_by_ref(
                external_ref=f"DEMO-{index + 1:05d}",
                defaults={
                    "name": f"{first} {last}",
                    "email": f"{first}.{last}{index + 1}@example.com".lower().replace("'", ""),
                    "phone": f"+44 7700 9{index % 100000:05d}",
                    "tier": CustomerTier.VIP if rng.random() < 0.1 else CustomerTier.STANDARD,
                    "special_handling": special,
                    "special_handling_reason": rng.choice(SPECIAL_REASONS) if special else "",
                    "contract_end_date": (
                        today + timedelta(days=rng.randint(-30, 180))
                        if rng.random() < 0.35
                        else None
                    ),
                    "loyalty_status": loyalty,
                },
            )
        )
    return customers


# ---- complaint texts ----------------------------------------------------------------------

CHANNELS = ["web", "email", "phone", "phone", "api", "social", "in_person"]
CFPB_CHANNELS = {"web": "web", "phone": "phone", "email": "email"}


def _builtin_complaints(rng: random.Random, teams: list[str]) -> Callable[[str], Complaint]:
    catalogue: dict[str, list[tuple[Category, Service, Sample]]] = {}
    for team in teams:
        parent_name, service_name, children = DOMAINS[team]
        parent = _category(parent_name)
        service = _service(service_name)
        catalogue[team] = [
            (_category(child, parent), service, sample)
            for child, samples in children.items()
            for sample in samples
        ]

    def pick(team: str) -> Complaint:
        category, service, (title, description, expected, delivered) = rng.choice(catalogue[team])
        return Complaint(
            team=team,
            category=category,
            service=service,
            title=title,
            description=description,
            expected=expected,
            delivered=delivered,
            channel=rng.choice(CHANNELS),
        )

    return pick


def _cfpb_rows(path: Path, rng: random.Random, wanted: int) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("Issue") and row.get("Product")]
    narrated = [row for row in rows if (row.get("Consumer complaint narrative") or "").strip()]
    plain = [row for row in rows if not (row.get("Consumer complaint narrative") or "").strip()]
    picked = rng.sample(narrated, min(wanted, len(narrated)))
    if len(picked) < wanted and plain:
        picked += rng.sample(plain, min(wanted - len(picked), len(plain)))
    return picked


def _cfpb_service(product: str) -> str:
    lowered = product.lower()
    if "credit card" in lowered or "prepaid card" in lowered:
        return "Credit card"
    if "loan" in lowered or "mortgage" in lowered or "lease" in lowered:
        return "Loans"
    return "Current account"


def _cfpb_complaint(row: dict[str, str], rng: random.Random) -> Complaint:
    product = row["Product"].strip()
    sub_product = (row.get("Sub-product") or "").strip()
    issue = row["Issue"].strip()
    sub_issue = (row.get("Sub-issue") or "").strip()
    narrative = (row.get("Consumer complaint narrative") or "").strip()
    parent = _category(product)
    category = _category(sub_product, parent) if sub_product else parent
    title = f"{issue}: {sub_issue}" if sub_issue else issue
    via = (row.get("Submitted via") or "").strip().lower()
    return Complaint(
        team="Banking care",
        category=category,
        service=_service(_cfpb_service(product)),
        title=title[:200],
        description=narrative[:8000]
        or f"The customer complained about {product.lower()}: {issue.lower()}.",
        expected=f"{sub_product or product} handled correctly",
        delivered=sub_issue or issue,
        channel=CFPB_CHANNELS.get(via, "import" if via else rng.choice(CHANNELS)),
    )


# ---- working a case -----------------------------------------------------------------------

STATUS_WEIGHTS: list[tuple[str, int]] = [
    ("new", 14),
    ("acknowledged", 10),
    ("in_recovery", 20),
    ("awaiting_customer", 10),
    ("resolved", 18),
    ("closed", 20),
    ("reopened", 8),
]
SEVERITY_WEIGHTS = [(1, 5), (2, 20), (3, 50), (4, 25)]
OUTCOME_WEIGHTS = [(Outcome.UPHELD, 5), (Outcome.PARTLY_UPHELD, 3), (Outcome.NOT_UPHELD, 2)]
FINISHED = ("resolved", "closed", "reopened")  # worked to a resolution (reopened: and back)
FIRST_CASES: list[tuple[str, str]] = [
    ("new", ""),
    ("acknowledged", ""),
    ("in_recovery", ""),
    ("awaiting_customer", ""),
    ("resolved", Outcome.UPHELD),
    ("resolved", Outcome.PARTLY_UPHELD),
    ("resolved", Outcome.NOT_UPHELD),
    ("closed", Outcome.UPHELD),
    ("reopened", Outcome.PARTLY_UPHELD),
]


def _weighted(rng: random.Random, options: list[tuple[Any, int]]) -> Any:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


@dataclass
class _Script:
    """A case's history as actions, each with the past instant it is meant to happen at."""

    actions: list[Callable[[Case], object]] = field(default_factory=list)
    resolve_index: int | None = None  # the action that resolves the case, if any

    def then(self, action: Callable[[Case], object]) -> None:
        self.actions.append(action)


def _done(step: str, agent: User) -> Callable[[Case], object]:
    return lambda c: case_step_done(
        case=c, step=step, version=None, actor=agent, note="Done with the customer."
    )


def _skip(step: str, agent: User, reason: str) -> Callable[[Case], object]:
    return lambda c: case_step_skip(case=c, step=step, reason=reason, version=None, actor=agent)


def _plan(
    rng: random.Random,
    target: str,
    steps: list[tuple[str, bool]],
    agent: User,
    outcome: str,
) -> _Script:
    """What happens to a case after it is opened, ending in `target`."""
    s = _Script()
    say = case_message_add
    s.then(lambda c: case_acknowledge(case=c, version=None, actor=agent, note="Called back."))
    s.then(
        lambda c: say(
            case=c,
            direction=MessageDirection.OUTBOUND,
            actor=agent,
            body="Thank you for telling us, and I'm sorry this happened. I'm looking into it "
            "now and will keep you updated.",
        )
    )
    if target == "acknowledged":
        return s
    later = [(step, required) for step, required in steps if step != RecoveryStep.ACKNOWLEDGE]
    if target in ("in_recovery", "awaiting_customer"):
        later = later[: rng.randint(1, max(1, len(later) - 2))]
    elif rng.random() < 0.4:
        # Asked the customer for something and they answered: the resolve clock paused.
        s.then(
            lambda c: say(
                case=c,
                direction=MessageDirection.OUTBOUND,
                actor=agent,
                body="Could you confirm the account number and the dates affected?",
                awaiting_customer=True,
            )
        )
        s.then(
            lambda c: say(
                case=c,
                direction=MessageDirection.INBOUND,
                actor=None,
                body=rng.choice(INBOUND_REPLIES),
            )
        )
    for step, required in later:
        if outcome == Outcome.NOT_UPHELD and step in (
            RecoveryStep.RECTIFY,
            RecoveryStep.COMPENSATE,
        ):
            s.then(_skip(step, agent, "Nothing to put right: we found no failure on our side."))
        elif required or rng.random() < 0.6:
            s.then(_done(step, agent))
        else:
            s.then(_skip(step, agent, "Not needed for this case."))
    if rng.random() < 0.5:
        s.then(
            lambda c: say(
                case=c,
                direction=MessageDirection.INTERNAL,
                actor=agent,
                body="Checked the account history; see the steps for what was done.",
            )
        )
    if target == "in_recovery":
        return s
    if target == "awaiting_customer":
        s.then(
            lambda c: say(
                case=c,
                direction=MessageDirection.OUTBOUND,
                actor=agent,
                body="Could you send a photo of the receipt so I can finish this for you?",
                awaiting_customer=True,
            )
        )
        return s
    explanation = rng.choice(NOT_UPHELD_EXPLANATIONS) if outcome == Outcome.NOT_UPHELD else ""
    s.resolve_index = len(s.actions)
    s.then(
        lambda c: case_resolve(
            case=c,
            outcome=outcome,
            explanation=explanation,
            version=None,
            actor=agent,
            confirm_undetermined=True,
        )
    )
    if target == "closed" or (target == "reopened" and rng.random() < 0.5):
        s.then(lambda c: case_close(case=c, version=None, actor=agent))
    if target == "reopened":
        s.then(
            lambda c: say(
                case=c,
                direction=MessageDirection.INBOUND,
                actor=None,
                body="It has happened again since you closed this.",
            )
        )
        s.then(
            lambda c: case_reopen(
                case=c, version=None, actor=agent, reason="The customer says it happened again."
            )
        )
    return s


SLA_STATE_WEIGHTS = [("on_track", 50), ("at_risk", 20), ("breached", 30)]
SLA_ELAPSED = {"on_track": (0.05, 0.7), "at_risk": (0.8, 0.95), "breached": (1.1, 3.0)}


def _opened_before(now: datetime, policy: SlaPolicy, target: timedelta, elapsed: float) -> datetime:
    """The instant from which `elapsed` × `target` of business time has passed by `now`."""
    wanted = target * elapsed
    early, late = now - timedelta(days=365), now
    for _ in range(40):  # bisection to well under a second
        middle = early + (late - early) / 2
        if business_time_between(calendar=policy.calendar, start=middle, end=now) > wanted:
            early = middle
        else:
            late = middle
    return late


Anchor = tuple[datetime, datetime]  # (real instant before an action, the instant it stands for)


def _moved(value: datetime | None, anchors: list[Anchor]) -> datetime | None:
    if value is None:
        return None
    real, past = anchors[0]
    for candidate_real, candidate_past in anchors:
        if candidate_real <= value:
            real, past = candidate_real, candidate_past
    return past + (value - real)


CASE_TIMES = [
    "created_at",
    "updated_at",
    "acknowledged_at",
    "recovery_started_at",
    "awaiting_customer_since",
    "resolved_at",
    "closed_at",
    "reopened_at",
    "resolve_clock_started_at",
]


def _backdate(case_pk: int, anchors: list[Anchor]) -> None:
    """Move a freshly worked case into the past and recompute its SLA clocks (see the module
    docstring for why)."""
    case = Case.objects.select_related("playbook").get(pk=case_pk)
    for name in CASE_TIMES:
        setattr(case, name, _moved(getattr(case, name), anchors))
    steps = list(CaseStep.objects.filter(case=case))
    for step in steps:
        step.created_at = _moved(step.created_at, anchors)  # type: ignore[assignment]
        step.updated_at = _moved(step.updated_at, anchors)  # type: ignore[assignment]
        step.at = _moved(step.at, anchors)
    messages = list(Message.objects.filter(case=case))
    for message in messages:
        message.created_at = _moved(message.created_at, anchors)  # type: ignore[assignment]
        message.updated_at = _moved(message.updated_at, anchors)  # type: ignore[assignment]
    events = list(CaseEvent.objects.filter(case=case).order_by("created_at", "id"))
    for event in events:
        event.created_at = _moved(event.created_at, anchors)  # type: ignore[assignment]

    # Replay the clocks over the moved timeline, as the services would have computed them.
    policy = sla_policy_of(case)
    cal = policy.calendar
    clock_start = case.created_at
    paused = timedelta(0)
    paused_since: datetime | None = None
    ack_due = add_business_time(calendar=cal, start=case.created_at, delta=policy.acknowledge)
    for event in events:
        at = event.created_at
        data = dict(event.data)
        raw_status = data.get("status")
        status: dict[str, Any] = raw_status if isinstance(raw_status, dict) else {}
        if event.kind == CaseEventKind.CREATED:
            data["ack_due_at"] = ack_due.isoformat()
            data["resolve_due_at"] = add_business_time(
                calendar=cal, start=clock_start, delta=policy.resolve
            ).isoformat()
        elif event.kind == CaseEventKind.ACKNOWLEDGED:
            data["on_time"] = at <= ack_due
        elif event.kind == CaseEventKind.REOPENED:
            # The service restarts the clock at reopened_at, a moment before this event.
            clock_start = case.reopened_at or at
            paused, paused_since = timedelta(0), None
        elif status.get("to") == CaseStatus.AWAITING_CUSTOMER:
            paused_since = at
        if status.get("from") == CaseStatus.AWAITING_CUSTOMER and paused_since is not None:
            gap = business_time_between(calendar=cal, start=paused_since, end=at)
            gap = timedelta(seconds=int(gap.total_seconds()))  # whole seconds, as stored
            paused += gap
            paused_since = None
            if "paused_seconds" in data:
                data["paused_seconds"] = int(gap.total_seconds())
        due = add_business_time(calendar=cal, start=clock_start, delta=policy.resolve + paused)
        if "resolve_due_at" in data and event.kind != CaseEventKind.CREATED:
            data["resolve_due_at"] = due.isoformat()
        if event.kind == CaseEventKind.RESOLVED:
            data["on_time"] = at <= due
        event.data = data
    case.resolve_clock_started_at = clock_start
    case.sla_paused_seconds = int(paused.total_seconds())
    sla_compute(case, policy=policy)
    case.save(update_fields=[*CASE_TIMES, "ack_due_at", "ack_at_risk_at", "resolve_due_at",
                             "resolve_at_risk_at", "sla_paused_seconds", "sla_due_at",
                             "sla_at_risk_at"])  # fmt: skip
    # QuerySet.update and bulk_update bypass auto_now, so the moved times stick.
    Case.objects.filter(pk=case.pk).update(updated_at=case.updated_at)
    CaseStep.objects.bulk_update(steps, ["created_at", "updated_at", "at"])
    Message.objects.bulk_update(messages, ["created_at", "updated_at"])
    CaseEvent.objects.bulk_update(events, ["created_at", "data"])


# ---- the whole organisation ---------------------------------------------------------------


def demo_build(
    *,
    cases: int = 300,
    seed: int = 2026,
    if_empty: bool = False,
    cfpb_csv: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Build the demo organisation and `cases` cases in every state. Returns what it made."""
    result = DemoResult(staff=[(u, r, t or "") for u, r, t, _, _ in STAFF])
    if if_empty and Case.objects.exists():
        result.skipped = True
        return result
    rng = random.Random(seed)  # noqa: S311  # demo data, not security
    now = timezone.now()
    with transaction.atomic():
        # A British organisation: pages in London time, remedies in pounds.
        organisation_save(name=DEMO_ORGANISATION, time_zone="Europe/London", currency="GBP")
        calendar = _calendar()
        for name in SERVICES:
            _service(name)
        _playbooks(calendar)
        users = _staff()
        teams = {team.name: team for team in Team.objects.filter(name__in=DOMAINS)}
        agents: dict[str, list[User]] = {name: [] for name in DOMAINS}
        for username, role, team_name, _, _ in STAFF:
            if role == Role.AGENT and team_name:
                agents[team_name].append(users[username])
        customers = _customers(rng, max(12, cases // 3), now.date())
        result.customers = len(customers)

        team_names = list(DOMAINS)
        builtin = _builtin_complaints(rng, team_names)
        cfpb: list[dict[str, str]] = []
        if cfpb_csv is not None:
            cfpb = _cfpb_rows(cfpb_csv, rng, max(1, cases // 3))
        from_cfpb = bool(cfpb)
        if from_cfpb and cfpb_csv is not None:
            result.source = f"CFPB complaints ({cfpb_csv.name}) and built-in samples"

        for index in range(cases):
            # The first cases cover every state and outcome; the rest follow the weights.
            if index < len(FIRST_CASES):
                target, outcome = FIRST_CASES[index]
            else:
                target = _weighted(rng, STATUS_WEIGHTS)
                outcome = _weighted(rng, OUTCOME_WEIGHTS) if target in FINISHED else ""
            if cfpb and rng.random() < 0.25:
                complaint = _cfpb_complaint(cfpb.pop(), rng)
            else:
                # With the CFPB sample, banking complaints come from it and only from it.
                complaint = builtin(rng.choice(team_names[:-1] if from_cfpb else team_names))
            _demo_case(
                rng=rng,
                now=now,
                target=target,
                outcome=outcome,
                complaint=complaint,
                customer=rng.choice(customers),
                team=teams[complaint.team],
                agents=agents[complaint.team],
                supervisor=users["sky"],
            )
            result.cases += 1
            if progress and (index + 1) % 100 == 0:
                progress(f"{index + 1} cases")
        _customers_since(rng, customers, now)
        result.recovery = demo_recovery_build(rng=rng, now=now, users=users)
        result.incident = demo_incident_build(rng=rng, now=now, users=users)
    return result


def _customers_since(rng: random.Random, customers: list[Customer], now: datetime) -> None:
    """A customer was a customer before their first complaint: months or years before it."""
    first_case = dict(
        Case.objects.filter(customer__in=customers)
        .values("customer_id")
        .annotate(first=Min("created_at"))
        .values_list("customer_id", "first")
    )
    for customer in customers:
        start = first_case.get(customer.pk, now)
        customer.created_at = start - timedelta(days=rng.randint(60, 6 * 365))
    Customer.objects.bulk_update(customers, ["created_at"], batch_size=500)


def _demo_case(
    *,
    rng: random.Random,
    now: datetime,
    target: str,
    outcome: str,
    complaint: Complaint,
    customer: Customer,
    team: Team,
    agents: list[User],
    supervisor: User,
) -> None:
    agent = rng.choice(agents)
    severity = _weighted(rng, SEVERITY_WEIGHTS)
    policy = sla_policy_for(
        playbook=playbook_for_category(category=complaint.category), severity=severity
    )
    # Choose when it was opened so that open cases land on track, at risk or breached, and
    # finished ones were mostly (not always) resolved within their target.
    resolve_at: datetime | None = None
    if target in FINISHED:
        opened = now - timedelta(hours=rng.randint(4 * 24, 60 * 24))
        share = rng.uniform(0.2, 0.95) if rng.random() < 0.7 else rng.uniform(1.05, 2.0)
        resolve_at = min(
            add_business_time(calendar=policy.calendar, start=opened, delta=policy.resolve * share),
            now - timedelta(hours=2),
        )
    else:
        clock = policy.acknowledge if target == "new" else policy.resolve
        low, high = SLA_ELAPSED[_weighted(rng, SLA_STATE_WEIGHTS)]
        opened = _opened_before(now, policy, clock, rng.uniform(low, high))
        opened = min(opened, now - timedelta(minutes=5))
    unrouted = target == "new" and rng.random() < 0.3
    taken_by_staff = complaint.channel in ("phone", "in_person")
    anchors: list[Anchor] = [(timezone.now(), opened)]
    case = case_create(
        customer=customer,
        title=complaint.title,
        description=complaint.description,
        expected=complaint.expected,
        delivered=complaint.delivered,
        channel=complaint.channel,
        severity=severity,
        category=complaint.category,
        service=complaint.service,
        team=team,
        assignee=None if unrouted else agent,
        actor=agent if taken_by_staff else None,
    )
    case_message_add(
        case=case, direction=MessageDirection.INBOUND, body=complaint.description, actor=None
    )
    if unrouted and team.name == "Billing care" and rng.random() < 0.5:
        # The supervisor routes part of the team queue.
        anchors.append((timezone.now(), opened + (now - opened) * 0.2))
        case_assign(case=case, version=None, actor=supervisor, assignee=agent)
    if target != "new":
        steps = list(case.steps.order_by("position").values_list("step", "required"))
        script = _plan(rng, target, steps, agent, outcome)
        for when, action in zip(
            _times(rng, script, opened, resolve_at, now), script.actions, strict=True
        ):
            anchors.append((timezone.now(), when))
            action(case)
    _backdate(case.pk, anchors)


def _times(
    rng: random.Random,
    script: _Script,
    opened: datetime,
    resolve_at: datetime | None,
    now: datetime,
) -> list[datetime]:
    """When each scripted action happened: in order, the acknowledgement early, the resolution
    at `resolve_at` and anything after it (closing, reopening) between then and now."""
    before = script.resolve_index if script.resolve_index is not None else len(script.actions)
    until = resolve_at or now
    fractions = sorted(rng.uniform(0.02, 0.95) for _ in range(before))
    if fractions:
        fractions[0] *= 0.25  # the acknowledgement comes early
    times = [opened + (until - opened) * f for f in fractions]
    if resolve_at is not None:
        after = len(script.actions) - before - 1
        times.append(resolve_at)
        times += [
            resolve_at + (now - resolve_at) * f
            for f in sorted(rng.uniform(0.1, 0.9) for _ in range(after))
        ]
    return times
