"""Load N cases fast, for the benchmarks: `python bench/load_cases.py --count 1000000`.

It bypasses the per-case services (which take ~40 ms a case: 11 hours for a million) and
writes rows in batches (COPY on PostgreSQL, executemany on SQLite; Django's own bulk_create
spends most of its time preparing values), but the rows have exactly the shape the services
produce, so the benchmarks read realistic data:

- the organisation itself (teams, staff, calendar, playbooks with SLA targets, categories) is
  built by the demo builder through the real services (`amends.demo.services.build.demo_build`, 0 cases);
- each case gets its playbook's steps (pending / done / skipped with actor, time, reason), the
  SLA clocks computed by the same function the services use (`sla_compute`, business hours of the
  playbook's calendar), transition timestamps, a version equal to 1 + the number of actions, the
  customer's first message, and the timeline events the services would have recorded (created,
  message_added, acknowledged, step_done/step_skipped, status_changed, resolved, closed) with
  the same `data` keys;
- cases are spread over the last two years with ids increasing with time; the newest 10% are
  open (new, acknowledged, in recovery, awaiting the customer) and the rest resolved or closed,
  so the open backlog grows with the data, which is the harder case for the list queries.

Uses the database configured like `amends` itself (DATABASE_URL, else SQLite in
AMENDS_DATA_DIR). Appends to what is there; ids continue after the current maximum.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.core.management.color import no_style  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.utils import timezone  # noqa: E402

from amends.accounts.choices import Role  # noqa: E402
from amends.accounts.models import StaffProfile  # noqa: E402
from amends.cases.choices import (  # noqa: E402
    CaseEventKind,
    CaseStatus,
    MessageDirection,
    Outcome,
    StepState,
)
from amends.cases.models import Case, CaseEvent, CaseStep, Message, case_ref  # noqa: E402
from amends.cases.services.sla import sla_compute  # noqa: E402
from amends.customers.models import Customer  # noqa: E402
from amends.demo.services.build import DOMAINS, demo_build  # noqa: E402
from amends.policies.selectors import playbook_for_category, sla_policy_for  # noqa: E402
from amends.taxonomy.models import Category  # noqa: E402

OPEN_MIX = [
    (CaseStatus.NEW, 25),
    (CaseStatus.ACKNOWLEDGED, 15),
    (CaseStatus.IN_RECOVERY, 45),
    (CaseStatus.AWAITING_CUSTOMER, 15),
]
SPAN = timedelta(days=730)


class Org:
    """What the cases point at: customers, teams and their agents, categories, playbooks."""

    def __init__(self, customers: int) -> None:
        demo_build(cases=0, seed=1)
        self.agents: dict[int, list[Any]] = {}
        for profile in StaffProfile.objects.select_related("user", "team").filter(
            role=Role.AGENT, team__isnull=False
        ):
            self.agents.setdefault(profile.team_id, []).append(profile.user)  # type: ignore[arg-type]
        self.team_by_name = {
            p.team.name: p.team for p in StaffProfile.objects.select_related("team") if p.team
        }
        # (category, service, team, playbook, steps, {severity: policy})
        self.kinds: list[tuple[Any, ...]] = []
        for team_name, (parent_name, _service, children) in DOMAINS.items():
            for child in children:
                category = Category.objects.get(name=child, parent__name=parent_name)
                playbook = playbook_for_category(category=category)
                steps = [(s.step, s.required) for s in playbook.steps.all()] if playbook else []
                policies = {
                    sev: sla_policy_for(playbook=playbook, severity=sev) for sev in (1, 2, 3, 4)
                }
                self.kinds.append(
                    (category, None, self.team_by_name[team_name], playbook, steps, policies)
                )
        existing = Customer.objects.filter(external_ref__startswith="BENCH-").count()
        if existing < customers:
            Customer.objects.bulk_create(
                [
                    Customer(
                        name=f"Bench Customer {n}",
                        email=f"bench{n}@example.com",
                        external_ref=f"BENCH-{n:07d}",
                    )
                    for n in range(existing, customers)
                ],
                batch_size=5000,
            )
        self.customer_ids = list(
            Customer.objects.filter(external_ref__startswith="BENCH-").values_list("id", flat=True)
        )


def _event(case: Case, at: datetime, kind: str, actor: Any, data: dict[str, Any]) -> Row:
    return {
        "case_id": case.pk,
        "kind": kind,
        "actor_id": actor.pk if actor else None,
        "data": data,
        "created_at": at,
    }


Row = dict[str, Any]


class Table:
    """Fast INSERTs of plain dicts into a model's table (COPY on PostgreSQL, executemany on
    SQLite), with the values Django would send; fields not given take their model default."""

    def __init__(self, model: type[Any]) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.defaults: dict[str, Any] = {}
        for f in self.fields:
            if f.has_default() or f.null or f.empty_strings_allowed or f.primary_key:
                self.defaults[f.attname] = None if f.primary_key else f.get_default()
        self.pg = connection.vendor == "postgresql"
        self.convert = [self._converter(f) for f in self.fields]
        self.columns = [f.column for f in self.fields]

    def _converter(self, field: Any) -> Any:
        kind = field.get_internal_type()
        if kind == "DateTimeField" and not self.pg:
            return lambda v: (
                None if v is None else v.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
            )
        if kind == "JSONField":
            return lambda v: json.dumps(v)
        return None

    def tuples(self, rows: list[Row]) -> list[tuple[Any, ...]]:
        out = []
        for row in rows:
            values = []
            for f, convert in zip(self.fields, self.convert, strict=True):
                if f.attname in row:
                    value = row[f.attname]
                elif f.attname in self.defaults:
                    value = self.defaults[f.attname]
                else:
                    raise SystemExit(
                        f"{self.model.__name__}.{f.attname} has no value and no default: "
                        "teach bench/load_cases.py about this new field."
                    )
                values.append(convert(value) if convert and value is not None else value)
            out.append(tuple(values))
        return out

    def insert(self, rows: list[Row]) -> None:
        if not rows:
            return
        with_pk = "id" in rows[0]
        fields = [(i, f) for i, f in enumerate(self.fields) if with_pk or not f.primary_key]
        columns = ", ".join(connection.ops.quote_name(f.column) for _, f in fields)
        table = connection.ops.quote_name(self.model._meta.db_table)
        data = [tuple(t[i] for i, _ in fields) for t in self.tuples(rows)]
        with connection.cursor() as cursor:
            if self.pg:
                raw = cursor.cursor
                with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for values in data:
                        copy.write_row(values)
            else:
                marks = ", ".join("?" for _ in fields)
                cursor.connection.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608  # our names
                    data,
                )


def _case_row(case: Case) -> Row:
    return {f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields}


def build_case(
    rng: random.Random,
    org: Org,
    pk: int,
    message_pk: int,
    created: datetime,
    status: str,
    now: datetime,
) -> tuple[Case, list[Row], list[Row], list[Row]]:
    category, service, team, playbook, steps, policies = rng.choice(org.kinds)
    severity = rng.choices((1, 2, 3, 4), weights=(5, 20, 50, 25))[0]
    agent = rng.choice(org.agents[team.pk])
    assigned = status != CaseStatus.NEW or rng.random() < 0.7
    case = Case(
        id=pk,
        customer_id=rng.choice(org.customer_ids),
        channel=rng.choice(("web", "email", "phone", "api")),
        category=category,
        service=service,
        playbook=playbook,
        title=f"Benchmark complaint {pk}",
        description="My broadband has been down for three days and nobody has called back.",
        expected="A working connection",
        delivered="No service since Monday",
        severity=severity,
        status=CaseStatus.NEW,
        team=team,
        assignee=agent if assigned else None,
        created_at=created,
        updated_at=created,
        resolve_clock_started_at=created,
    )
    policy = policies[severity]
    sla_compute(case, policy=policy)
    version = 1
    events = [
        _event(
            case,
            created,
            CaseEventKind.CREATED,
            None,
            {
                "ref": case_ref(pk),
                "channel": case.channel,
                "severity": severity,
                "playbook": playbook.name if playbook else None,
                "ack_due_at": case.ack_due_at.isoformat(),
                "resolve_due_at": case.resolve_due_at.isoformat(),
                "team": team.name,
                **({"assignee": agent.username} if assigned else {}),
            },
        )
    ]
    message = {
        "id": message_pk,
        "case_id": pk,
        "direction": MessageDirection.INBOUND,
        "body": case.description,
        "created_at": created,
        "updated_at": created,
    }
    version += 1
    events.append(
        _event(
            case,
            created,
            CaseEventKind.MESSAGE_ADDED,
            None,
            {"message_id": message_pk, "direction": "inbound", "excerpt": case.description[:140]},
        )
    )
    rows = [
        {
            "case_id": pk,
            "step": step,
            "required": required,
            "position": i,
            "state": StepState.PENDING,
            "created_at": created,
            "updated_at": created,
        }
        for i, (step, required) in enumerate(steps)
    ]
    if status == CaseStatus.NEW:
        return case, rows, [message], events

    # Spread the history between creation and now (or a resolution some hours/days later).
    horizon = now if status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED) else None
    end = horizon or min(now, created + timedelta(hours=rng.uniform(2, 24 * 8)))
    t = created + (end - created) * rng.uniform(0.01, 0.1)
    case.status = CaseStatus.ACKNOWLEDGED
    case.acknowledged_at = t
    version += 1
    events.append(
        _event(
            case,
            t,
            CaseEventKind.ACKNOWLEDGED,
            agent,
            {
                "status": {"from": "new", "to": "acknowledged"},
                "on_time": t <= case.ack_due_at,
                "note": "",
            },
        )
    )
    rows[0].update(state=StepState.DONE, actor_id=agent.pk, at=t, updated_at=t)
    todo = rows[1:]
    if status in (CaseStatus.IN_RECOVERY, CaseStatus.AWAITING_CUSTOMER):
        todo = todo[: rng.randint(1, max(1, len(todo) - 1))]
    elif status == CaseStatus.ACKNOWLEDGED:
        todo = []
    for row in todo:
        t = t + (end - t) * rng.uniform(0.05, 0.3)
        skip = not row["required"] and rng.random() < 0.4
        row["state"] = StepState.SKIPPED if skip else StepState.DONE
        row["skip_reason"] = "Not needed for this case." if skip else ""
        row.update(actor_id=agent.pk, at=t, updated_at=t)
        version += 1
        state = {"from": "pending", "to": row["state"]}
        events.append(
            _event(
                case,
                t,
                CaseEventKind.STEP_SKIPPED if skip else CaseEventKind.STEP_DONE,
                agent,
                {"step": row["step"], "state": state}
                | ({"reason": row["skip_reason"]} if skip else {"note": ""}),
            )
        )
        if case.status == CaseStatus.ACKNOWLEDGED:
            case.status = CaseStatus.IN_RECOVERY
            case.recovery_started_at = t
            events.append(
                _event(
                    case,
                    t,
                    CaseEventKind.STATUS_CHANGED,
                    agent,
                    {"status": {"from": "acknowledged", "to": "in_recovery"}},
                )
            )
    if status == CaseStatus.AWAITING_CUSTOMER:
        t = t + (end - t) * rng.uniform(0.05, 0.5)
        before = case.status
        case.status = CaseStatus.AWAITING_CUSTOMER
        case.awaiting_customer_since = t
        version += 1
        events.append(
            _event(
                case,
                t,
                CaseEventKind.STATUS_CHANGED,
                agent,
                {"status": {"from": before, "to": "awaiting_customer"}, "sla": "paused"},
            )
        )
    if status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        t = end
        before = case.status
        outcome = rng.choice((Outcome.UPHELD, Outcome.UPHELD, Outcome.PARTLY_UPHELD))
        case.status, case.outcome, case.resolved_at = CaseStatus.RESOLVED, outcome, t
        version += 1
        events.append(
            _event(
                case,
                t,
                CaseEventKind.RESOLVED,
                agent,
                {
                    "status": {"from": before, "to": "resolved"},
                    "outcome": outcome,
                    "explanation": "",
                    "on_time": t <= case.resolve_due_at,
                },
            )
        )
        if status == CaseStatus.CLOSED:
            t = min(now, t + timedelta(days=rng.uniform(1, 14)))
            case.status, case.closed_at = CaseStatus.CLOSED, t
            version += 1
            events.append(
                _event(
                    case,
                    t,
                    CaseEventKind.CLOSED,
                    agent,
                    {"status": {"from": "resolved", "to": "closed"}},
                )
            )
    sla_compute(case, policy=policy)  # the current clock for the final status
    case.version = version
    case.updated_at = t
    return case, rows, [message], events


def load(count: int, batch: int, seed: int, customers: int) -> None:
    started = time.monotonic()
    org = Org(customers)
    rng = random.Random(seed)
    now = timezone.now()
    first = (Case.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    first_message = (Message.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    open_from = int(count * 0.9)  # the newest 10% are still open
    statuses = [s for s, _ in OPEN_MIX]
    weights = [w for _, w in OPEN_MIX]
    tables = {model: Table(model) for model in (Case, CaseStep, Message, CaseEvent)}
    done = 0
    while done < count:
        n = min(batch, count - done)
        cases, steps, messages, events = [], [], [], []
        for i in range(done, done + n):
            created = now - SPAN + SPAN * (i / count) + timedelta(seconds=rng.uniform(0, 30))
            if i >= open_from:
                status = rng.choices(statuses, weights=weights)[0]
            else:
                status = CaseStatus.CLOSED if rng.random() < 0.9 else CaseStatus.RESOLVED
            case, case_steps, case_messages, case_events = build_case(
                rng,
                org,
                first + i,
                first_message + i,
                min(created, now - timedelta(minutes=1)),
                status,
                now,
            )
            cases.append(case)
            steps += case_steps
            messages += case_messages
            events += case_events
        with transaction.atomic():
            tables[Case].insert([_case_row(c) for c in cases])
            tables[CaseStep].insert(steps)
            tables[Message].insert(messages)
            tables[CaseEvent].insert(events)
        done += n
        rate = done / (time.monotonic() - started)
        print(f"  {done:>9,} cases  ({rate:,.0f}/s)", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(
                no_style(), [Case, CaseStep, Message, CaseEvent]
            ):
                cursor.execute(sql)
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"Loaded {count:,} cases in {time.monotonic() - started:.0f}s.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--customers", type=int, default=None, help="default: count / 10")
    args = parser.parse_args()
    customers = args.customers or max(100, min(args.count // 10, 200_000))
    load(args.count, args.batch, args.seed, customers)


if __name__ == "__main__":
    main()
