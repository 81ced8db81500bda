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
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.services.workflow import case_acknowledge
from amends.cases.tests.factories import CaseFactory
from amends.commitments.models import Notification
from amends.commitments.services.escalations import escalation_raise
from amends.commitments.tests.factories import CommitmentFactory
from amends.remedies.services.menus import menu_create
from amends.remedies.services.remedies import RemedyInput, remedy_propose
from amends.remedies.tests.factories import AuthorityRuleFactory, kind
from amends.web.tests.permissions_matrix import (
    ALLOWED,
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


def _world() -> World:
    team, other_team = TeamFactory(name="Billing"), TeamFactory(name="Network")
    users: dict[str, User | None] = {
        "anonymous": None,
        "other_agent": UserFactory(username="olga", role=Role.AGENT, team=other_team),
        "agent": UserFactory(username="alice", role=Role.AGENT, team=team),
        "supervisor": UserFactory(username="sam", role=Role.SUPERVISOR, team=team),
        "manager": UserFactory(username="maria", role=Role.MANAGER, team=None),
        "admin": UserFactory(username="ada", role=Role.ADMIN, team=None),
    }
    agent = users["agent"]
    assert agent is not None
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
    params = {
        "ref": case.ref,
        "customer_id": case.customer_id,
        "remedy_id": remedy.pk,
        "menu_id": menu.pk,
        "commitment_id": commitment.pk,
        "escalation_id": escalation.pk,
        "notification_id": notification.pk if notification else 1,
        "team_id": team.pk,
        "step": "apologise",
    }
    return World(users, params)


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
    missing = set(re.findall(r"{(\w+)}", endpoint.path)) - set(world.params)
    if missing:
        pytest.fail(f"{endpoint.key}: add {sorted(missing)} to the world, or mark the line NOTED")
    path = endpoint.path.format(**world.params)
    components = schema.get("components", {}).get("schemas", {})
    query = {
        p["name"]: _example(p.get("schema", {}), components, p["name"], world.params)
        for p in endpoint.operation.get("parameters", [])
        if p.get("in") == "query" and p.get("required")
    }
    body = endpoint.operation.get("requestBody", {}).get("content", {})
    client = _client(user)
    if endpoint.method == "GET":
        return client.get(path, query)
    if "application/json" in body:
        data = _example(body["application/json"]["schema"], components, "", world.params)
        return client.generic(endpoint.method, path, json.dumps(data), "application/json")
    return client.generic(endpoint.method, path, "", "application/json")


def _call_web(endpoint: Endpoint, world: World, user: User | None) -> Any:
    pattern = dict(_walk(get_resolver().url_patterns))[endpoint.key]
    names = set(pattern.pattern.regex.groupindex)
    missing = names - set(world.params)
    if missing:
        pytest.fail(f"{endpoint.key}: add {sorted(missing)} to the world, or mark the line NOTED")
    url = reverse(endpoint.key, kwargs={n: world.params[n] for n in names})
    client = _client(user)
    response = client.get(url)
    if response.status_code == 405:
        # As htmx posts: a refusal then answers its own status instead of redirecting back.
        response = client.post(url, WEB_FORM.get(endpoint.key, {}), HTTP_HX_REQUEST="true")
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


def test_pending_apps_endpoints_without_a_line_are_listed() -> None:
    missing = [e for e in _all_endpoints() if e.key not in MATRIX and e.app in PENDING_APPS]
    if missing:
        report = "\n".join(f"    {e.app}: {e.key}" for e in missing)
        pytest.xfail(f"{len(missing)} endpoints of apps still being built lack a line:\n{report}")


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


@pytest.mark.django_db
@pytest.mark.parametrize("key", LINES)
def test_matrix_line(key: str) -> None:
    schema = _openapi()
    endpoint = next(e for e in _api_endpoints(schema) + _web_endpoints() if e.key == key)
    world = _world()
    allowed = ALLOWED[MATRIX[key]]
    wrong = []
    for role in ROLES:
        sid = transaction.savepoint()
        if key.startswith("web:"):
            response = _call_web(endpoint, world, world.users[role])
        else:
            response = _call_api(endpoint, world, world.users[role], schema)
        transaction.savepoint_rollback(sid)
        if response.status_code >= 500:
            wrong.append(f"{role}: server error {response.status_code}")
        elif _refused(endpoint, response) == (role in allowed):
            verdict = "refused" if role in allowed else "let in"
            wrong.append(f"{role}: {verdict} ({response.status_code})")
    assert wrong == [], f"{key} is {MATRIX[key]}, but " + "; ".join(wrong)
