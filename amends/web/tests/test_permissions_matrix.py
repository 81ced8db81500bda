"""The permissions matrix (permissions_matrix.py) as tests: every API operation and web view,
called as every role, must let in exactly the roles its line names."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.models import Team
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.choices import CaseStatus
from amends.cases.models import Case
from amends.cases.services.workflow import case_acknowledge
from amends.cases.tests.factories import CaseFactory, case_in_status
from amends.channels.models import InboundEmail, WebhookDelivery
from amends.channels.services.attachments import attachment_add
from amends.channels.services.inbound import mail_ingest
from amends.channels.services.outbound import email_queue
from amends.channels.services.portal import portal_link_issue, portal_token
from amends.channels.services.webhooks import webhook_endpoint_create
from amends.commitments.models import Notification
from amends.commitments.services.escalations import escalation_raise
from amends.commitments.tests.factories import CommitmentFactory
from amends.feedback.models import FollowUp, Survey
from amends.feedback.services.dispatch import survey_sweep
from amends.feedback.services.reviews import staff_review_open
from amends.feedback.services.second_looks import second_look_request
from amends.feedback.services.surveys import survey_answer, survey_token
from amends.incidents.models import Impact
from amends.incidents.services.impacts import AffectedRow, impacts_add
from amends.incidents.services.incidents import incident_create
from amends.incidents.services.links import impact_token
from amends.incidents.tests.factories import eu261_policy
from amends.insight.models import TextScore
from amends.loyalty.services.campaigns import campaign_create
from amends.loyalty.services.status import loyalty_status_change
from amends.remedies.services.menus import menu_create
from amends.remedies.services.remedies import RemedyInput, remedy_propose
from amends.remedies.tests.factories import AuthorityRuleFactory, kind
from amends.taxonomy.models import RootCause
from amends.web.tests.permissions_matrix import (
    ALLOWED,
    API_BODY,
    API_FORM,
    CUSTOMER,
    LINK,
    MATRIX,
    NOTED,
    PENDING_APPS,
    PUBLIC,
    ROLES,
    VIEW_MODULE_APP,
    WEB_FORM,
)

API_TAG_APP = {"me": "accounts"}  # other tags are their app's name


@dataclass(frozen=True)
class Endpoint:
    key: str  # "GET /api/v1/cases/{ref}" or "web:case-detail"
    app: str
    method: str  # for web views: "" (GET, or POST when GET is not allowed)
    path: str  # API: the OpenAPI path; web: the route
    operation: dict[str, Any]


@cache
def _openapi() -> dict[str, Any]:
    return json.loads(Client().get("/api/v1/openapi.json").content)


def _api_endpoints(schema: dict[str, Any]) -> list[Endpoint]:
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            tag = (operation.get("tags") or ["api"])[0]
            found.append(
                Endpoint(
                    f"{method.upper()} {path}",
                    API_TAG_APP.get(tag, tag),
                    method.upper(),
                    path,
                    operation,
                )
            )
    return found


def _walk(patterns: list[Any], namespace: str | None = None) -> list[tuple[str, URLPattern]]:
    found: list[tuple[str, URLPattern]] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in ("admin", "api"):
                continue
            found += _walk(pattern.url_patterns, pattern.namespace or namespace)
        elif pattern.name:
            found.append((f"{namespace}:{pattern.name}" if namespace else pattern.name, pattern))
    return found


def _web_endpoints() -> list[Endpoint]:
    found = []
    for name, pattern in _walk(get_resolver().url_patterns):
        module = getattr(pattern.callback, "__module__", "") or ""
        app = module.rsplit(".", 1)[-1] if ".views." in module else module.split(".")[1]
        app = VIEW_MODULE_APP.get(app, app)
        found.append(Endpoint(name, app, "", str(pattern.pattern), {}))
    return found


def _all_endpoints() -> list[Endpoint]:
    return _api_endpoints(_openapi()) + _web_endpoints()


# ---- the world -------------------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, User | None]
    params: dict[str, Any]
    # Path parameters that differ for one endpoint (the same name, another object).
    overrides: dict[str, dict[str, Any]]

    def params_for(self, key: str) -> dict[str, Any]:
        return {**self.params, **self.overrides.get(key, {})}


def _raw_reply(*, to_message_id: str, sender: str, ref: str) -> bytes:
    return (
        f"From: Customer <{sender}>\r\nTo: care@example.com\r\n"
        f"Subject: Re: About your complaint {ref}\r\nMessage-ID: <reply.{ref}@example.com>\r\n"
        f"In-Reply-To: {to_message_id}\r\nDate: Tue, 01 Dec 2026 09:00:00 +0000\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nStill no connection today.\r\n"
    ).encode()


def _world() -> World:
    team, other_team = TeamFactory(name="Billing"), TeamFactory(name="Network")
    agent = UserFactory(username="alice", role=Role.AGENT, team=team)
    supervisor = UserFactory(username="sam", role=Role.SUPERVISOR, team=team)
    manager = UserFactory(username="maria", role=Role.MANAGER, team=None)
    admin = UserFactory(username="ada", role=Role.ADMIN, team=None)
    users: dict[str, User | None] = {
        "anonymous": None,
        "other_agent": UserFactory(username="olga", role=Role.AGENT, team=other_team),
        "agent": agent,
        "supervisor": supervisor,
        "manager": manager,
        "admin": admin,
    }
    refund = kind("refund")
    AuthorityRuleFactory(role=Role.AGENT, kind=refund, max_per_remedy=Decimal("50.00"))
    AuthorityRuleFactory(role=Role.SUPERVISOR, kind=refund, max_per_remedy=Decimal("500.00"))
    AuthorityRuleFactory(role=Role.MANAGER, kind=refund, max_per_remedy=Decimal("5000.00"))
    AuthorityRuleFactory(role=Role.ADMIN, kind=refund, max_per_remedy=Decimal("5000.00"))
    case = case_acknowledge(case=CaseFactory(team=team, assignee=agent), version=None, actor=agent)
    remedy = remedy_propose(
        case=case, kind="refund", amount="80.00", currency="USD", reason="Outage", actor=agent
    )
    menu = menu_create(
        case=case,
        options=[
            RemedyInput(kind="refund", amount="5.00", currency="USD"),
            RemedyInput(kind="refund", amount="6.00", currency="USD"),
        ],
        actor=agent,
    )
    commitment = CommitmentFactory(case=case, owner=agent)
    escalation = escalation_raise(case=case, level="supervisor", note="Help", actor=agent)
    notification = Notification.objects.filter(recipient=users["supervisor"]).first()
    params: dict[str, Any] = {
        "ref": case.ref,
        "customer_id": case.customer_id,
        "remedy_id": remedy.pk,
        "menu_id": menu.pk,
        "commitment_id": commitment.pk,
        "escalation_id": escalation.pk,
        "notification_id": notification.pk if notification else 1,
        "team_id": team.pk,
        "step": "apologise",
        "agent_id": agent.pk,
        "menu_remedy_id": menu.options.values_list("pk", flat=True).first(),
        "root_cause_id": RootCause.objects.create(name="Crew shortage").pk,
    }
    overrides: dict[str, dict[str, Any]] = {}
    _world_channels(case, admin, params, overrides)
    _world_insight(case, params)
    _world_feedback(team, agent, supervisor, params, overrides)
    _world_incidents(supervisor, manager, params, overrides)
    _world_loyalty(case, manager, params)
    return World(users, params, overrides)


def _world_channels(
    case: Case, admin: User, params: dict[str, Any], overrides: dict[str, dict[str, Any]]
) -> None:
    outbound = email_queue(
        to=case.customer.email,
        subject=f"About your complaint {case.ref}",
        body="We are sorry.",
        automatic=False,
        kind="reply",
        case_id=case.pk,
    )
    mail_ingest(
        raw=_raw_reply(to_message_id=outbound.message_id, sender=case.customer.email, ref=case.ref)
    )
    inbound = InboundEmail.objects.get(case=case)
    attachment = attachment_add(
        case=case, filename="receipt.txt", content_type="text/plain", data=b"Paid 80.00"
    )
    link = portal_link_issue(case=case, actor=None)
    endpoint = webhook_endpoint_create(
        name="CRM", url="https://crm.example.com/hook", events=["case.opened"], actor=admin
    )
    # A second case of the team: one delivery for the endpoint, and a case to merge into.
    params["into"] = CaseFactory(team=case.team).ref
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    params.update(
        email_id=outbound.pk,
        attachment_id=attachment.pk,
        link_id=link.pk,
        endpoint_id=endpoint.pk,
        delivery_id=delivery.pk,
        token=portal_token(link),
    )
    overrides["web:case-email-original"] = {"email_id": inbound.pk}


def _world_insight(case: Case, params: dict[str, Any]) -> None:
    params["score_id"] = TextScore.objects.filter(case=case).values_list("pk", flat=True).first()


def _world_feedback(
    team: Team,
    agent: User,
    supervisor: User,
    params: dict[str, Any],
    overrides: dict[str, dict[str, Any]],
) -> None:
    answered = case_in_status(CaseStatus.RESOLVED, actor=agent, assignee=agent, team=team)
    waiting = case_in_status(CaseStatus.RESOLVED, actor=agent, assignee=agent, team=team)
    survey_sweep(now=timezone.now() + timedelta(days=30))
    first, second = (Survey.objects.get(case=c) for c in (answered, waiting))
    survey_answer(token=survey_token(first), csat=1, comment="Nobody called back.")
    follow_up = FollowUp.objects.get(survey=first)
    review = staff_review_open(case=waiting, staff=agent, complaint="Rude", actor=supervisor)
    look = second_look_request(
        case=waiting, subject="draft_reply", draft="We are sorry.", actor=agent, reviewer=supervisor
    )
    params.update(
        survey_id=second.pk,
        follow_up_id=follow_up.pk,
        review_id=review.pk,
        look_id=look.pk,
        username=agent.username,
        measure="cases",
    )
    for key in ("web:survey", "web:survey-opt-out"):
        overrides[key] = {"token": survey_token(second)}


def _world_incidents(
    supervisor: User, manager: User, params: dict[str, Any], overrides: dict[str, dict[str, Any]]
) -> None:
    policy = eu261_policy(owner=manager)
    incident = incident_create(
        title="Flight AB123 delayed",
        kind="flight_delay",
        magnitude="200",
        started_at=timezone.now() - timedelta(hours=5),
        severity=2,
        actor=supervisor,
        public_description="Flight AB123 arrived 3 hours 20 minutes late.",
    )
    impacts_add(
        incident=incident,
        rows=[AffectedRow(external_ref="P-1", name="Pat", email="pat@example.com")],
        actor=supervisor,
        create_missing=True,
    )
    impact = Impact.objects.get(incident=incident)
    params.update(incident_id=incident.pk, policy_id=policy.pk)
    for key in ("web:incident-link", "web:incident-link-open"):
        overrides[key] = {"token": impact_token(impact_id=impact.pk)}


def _world_loyalty(case: Case, manager: User, params: dict[str, Any]) -> None:
    customer = case.customer
    loyalty_status_change(customer=customer, status="lost", reason="Cancelled", actor=manager)
    campaign = campaign_create(
        name="Come back",
        remedy_kind="refund",
        amount="20.00",
        currency="USD",
        budget="1000",
        subject="We miss you",
        body="Here is 20 USD.",
        actor=manager,
    )
    params["campaign_id"] = campaign.pk


# ---- calling an endpoint ---------------------------------------------------------------------


def _example(schema: dict[str, Any], components: dict[str, Any], name: str, params: dict) -> Any:
    """A value that passes schema validation, so the call reaches the permission check."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    for combined in ("anyOf", "oneOf", "allOf"):
        if combined in schema:
            options = [s for s in schema[combined] if s.get("type") != "null"]
            return _example(options[0], components, name, params)
    if name in params:
        return params[name]
    if name in ("owner", "assignee", "user"):
        return "alice"
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        required = schema.get("required", [])
        return {
            key: _example(sub, components, key, params)
            for key, sub in schema.get("properties", {}).items()
            if key in required
        }
    if kind == "array":
        item = _example(schema.get("items", {}), components, name, params)
        return [item] * max(schema.get("minItems", 0), 1)
    if kind == "integer":
        return max(schema.get("minimum", 1), 1)
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    if schema.get("format") == "date-time":
        return (datetime.now(UTC) + timedelta(days=3)).isoformat()
    if schema.get("format") == "date":
        return "2030-01-01"
    return "x" * max(schema.get("minLength", 1), 1)


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _call_api(endpoint: Endpoint, world: World, user: User | None, schema: dict) -> Any:
    params = world.params_for(endpoint.key)
    missing = set(re.findall(r"{(\w+)}", endpoint.path)) - set(params)
    if missing:
        pytest.fail(f"{endpoint.key}: add {sorted(missing)} to the world, or mark the line NOTED")
    path = endpoint.path.format(**params)
    components = schema.get("components", {}).get("schemas", {})
    query = {
        p["name"]: _example(p.get("schema", {}), components, p["name"], params)
        for p in endpoint.operation.get("parameters", [])
        if p.get("in") == "query" and p.get("required")
    }
    body = endpoint.operation.get("requestBody", {}).get("content", {})
    client = _client(user)
    if endpoint.method == "GET":
        return client.get(path, query)
    if endpoint.key in API_FORM:
        return client.post(path, _filled(API_FORM[endpoint.key], params))
    if endpoint.key in API_BODY:
        data = _filled(API_BODY[endpoint.key], params)
        return client.generic(endpoint.method, path, json.dumps(data), "application/json")
    if "application/json" in body:
        data = _example(body["application/json"]["schema"], components, "", params)
        return client.generic(endpoint.method, path, json.dumps(data), "application/json")
    return client.generic(endpoint.method, path, "", "application/json")


def _filled(value: Any, params: dict[str, Any]) -> Any:
    """A declared body or form with its "{name}" placeholders filled from the world."""
    if isinstance(value, dict):
        return {key: _filled(item, params) for key, item in value.items()}
    if isinstance(value, list):
        return [_filled(item, params) for item in value]
    if isinstance(value, bytes):
        return SimpleUploadedFile("upload.csv", value, content_type="text/csv")
    if isinstance(value, str) and re.fullmatch(r"{\w+}", value):
        return params[value[1:-1]]
    return value


def _forged(token: str) -> str:
    """The token with its signature changed: what someone without the link could send."""
    return token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")


def _call_web(endpoint: Endpoint, world: World, user: User | None, *, forged: bool = False) -> Any:
    pattern = dict(_walk(get_resolver().url_patterns))[endpoint.key]
    names = set(pattern.pattern.regex.groupindex)
    params = world.params_for(endpoint.key)
    missing = names - set(params)
    if missing:
        pytest.fail(f"{endpoint.key}: add {sorted(missing)} to the world, or mark the line NOTED")
    if forged:
        params["token"] = _forged(params["token"])
    url = reverse(endpoint.key, kwargs={n: params[n] for n in names})
    client = _client(user)
    response = client.get(url)
    if response.status_code == 405:
        # As htmx posts: a refusal then answers its own status instead of redirecting back.
        form = _filled(WEB_FORM.get(endpoint.key, {}), params)
        response = client.post(url, form, HTTP_HX_REQUEST="true")
    return response


def _refused(endpoint: Endpoint, response: Any) -> bool:
    if endpoint.key.startswith("web:") and response.status_code == 302:
        return str(response["Location"]).startswith(reverse("web:login"))
    return response.status_code in (401, 403, 404)


# ---- the tests -------------------------------------------------------------------------------


def test_every_endpoint_has_a_matrix_line() -> None:
    missing = [e for e in _all_endpoints() if e.key not in MATRIX and e.app not in PENDING_APPS]
    lines = "\n".join(f'    "{e.key}": STAFF,  # ({e.app}) choose the rule' for e in missing)
    assert not missing, (
        "These endpoints have no line in amends/web/tests/permissions_matrix.py; add them to "
        f"MATRIX with the roles that may call them:\n{lines}"
    )


def test_every_matrix_line_names_a_real_endpoint() -> None:
    known = {e.key for e in _all_endpoints()}
    assert sorted(set(MATRIX) - known) == []


@pytest.mark.django_db
def test_anonymous_is_refused_by_every_api_operation_not_marked_public() -> None:
    world = _world()
    schema = _openapi()
    let_in = []
    for endpoint in _api_endpoints(schema):
        if MATRIX.get(endpoint.key) == PUBLIC or not set(
            re.findall(r"{(\w+)}", endpoint.path)
        ) <= set(world.params):
            continue
        sid = transaction.savepoint()
        response = _call_api(endpoint, world, None, schema)
        transaction.savepoint_rollback(sid)
        if response.status_code != 401:
            let_in.append(f"{endpoint.key}: {response.status_code}")
    assert let_in == []


LINES = sorted(key for key, rule in MATRIX.items() if rule != NOTED)
# One world per group of lines, not per line: the world is the slow part.
GROUP = 25
GROUPS = [LINES[i : i + GROUP] for i in range(0, len(LINES), GROUP)]


def _check_line(key: str, world: World, schema: dict[str, Any]) -> list[str]:
    endpoint = next(e for e in _api_endpoints(schema) + _web_endpoints() if e.key == key)
    rule = MATRIX[key]
    allowed = ALLOWED[rule]
    roles = [*ROLES, CUSTOMER] if rule in (PUBLIC, LINK) else ROLES
    wrong = []
    for role in roles:
        user = world.users.get(role)
        sid = transaction.savepoint()
        if key.startswith("web:"):
            forged = rule == LINK and role != CUSTOMER
            response = _call_web(endpoint, world, user, forged=forged)
        else:
            response = _call_api(endpoint, world, user, schema)
        transaction.savepoint_rollback(sid)
        if response.status_code >= 500:
            wrong.append(f"{role}: server error {response.status_code}")
        elif _refused(endpoint, response) == (role in allowed):
            verdict = "refused" if role in allowed else "let in"
            wrong.append(f"{role}: {verdict} ({response.status_code})")
    return [f"{key} is {rule}, but " + "; ".join(wrong)] if wrong else []


@pytest.mark.django_db
@pytest.mark.parametrize("keys", GROUPS, ids=[group[0] for group in GROUPS])
def test_matrix_lines(keys: list[str]) -> None:
    schema = _openapi()
    world = _world()
    wrong = [line for key in keys for line in _check_line(key, world, schema)]
    assert wrong == [], "\n".join(wrong)
