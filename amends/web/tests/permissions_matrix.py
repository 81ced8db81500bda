"""Who may call what: the permissions matrix, one line per API operation and web view.

test_permissions_matrix.py walks the URL conf (web views) and the OpenAPI document (API
operations) and calls each one as every role against one small organisation (`world`):

    anonymous, other_agent (agent of another team), agent, supervisor (both of the case's
    team), manager, admin

A new endpoint without a line here fails the suite (apps listed in PENDING_APPS are reported,
not failed, until their author adds lines). Add one line per endpoint:

    API:  "METHOD /api/v1/path/{param}": RULE,
    web:  "web:url-name": RULE,

RULE is who gets in; everyone else must be refused (API: 401/403/404, web: the login
redirect, 403 or 404). "Gets in" means any answer but a refusal: a 409 or 422 from a business
rule still shows the caller reached the operation. A 5xx always fails.

    PUBLIC      anyone, even anonymous (the login page, customer links with a token)
    STAFF       any staff member, whatever their team
    CASE        staff who can see the world's case: its team, managers and admins
    SUPERVISOR  supervisors and above who can see the case (or no case is involved)
    MANAGER     managers and admins
    ADMIN       admins only
    NOTED       only the anonymous check runs (say why in a comment): the path needs an object
                the world does not build, or the answer depends on more than the role
"""

from __future__ import annotations

PUBLIC = "public"
STAFF = "staff"
CASE = "case"
SUPERVISOR = "supervisor"
MANAGER = "manager"
ADMIN = "admin"
NOTED = "noted"

ROLES = ["anonymous", "other_agent", "agent", "supervisor", "manager", "admin"]

ALLOWED: dict[str, set[str]] = {
    PUBLIC: set(ROLES),
    STAFF: {"other_agent", "agent", "supervisor", "manager", "admin"},
    CASE: {"agent", "supervisor", "manager", "admin"},
    SUPERVISOR: {"supervisor", "manager", "admin"},
    MANAGER: {"manager", "admin"},
    ADMIN: {"admin"},
}

# Apps still being built: their missing lines are reported, not failed. Remove an app from
# here when its endpoints are in the matrix.
PENDING_APPS = {"channels", "insight", "incidents", "feedback", "loyalty"}
# Web view modules whose name is not their app's.
VIEW_MODULE_APP = {"portal": "channels", "report": "channels"}
# Form data a web view needs before it checks who asks (else an empty form answers 422 first).
WEB_FORM: dict[str, dict[str, str]] = {
    "web:approval-reject": {"reason": "Too much"},
    "web:escalation-decide": {"decision": "Go ahead"},
}

MATRIX: dict[str, str] = {
    # ---- API: me and customers --------------------------------------------------------------
    "GET /api/v1/me": STAFF,
    "POST /api/v1/customers": STAFF,
    "GET /api/v1/customers": STAFF,
    "GET /api/v1/customers/{customer_id}": STAFF,  # customers are shared (docs/security.md)
    # ---- API: cases ---------------------------------------------------------------------------
    "POST /api/v1/cases": STAFF,
    "GET /api/v1/cases": STAFF,  # each sees the cases they may see (selectors)
    "GET /api/v1/cases/{ref}": CASE,
    "PATCH /api/v1/cases/{ref}": CASE,
    "GET /api/v1/cases/{ref}/timeline": CASE,
    "GET /api/v1/cases/{ref}/messages": CASE,
    "POST /api/v1/cases/{ref}/messages": CASE,
    "POST /api/v1/cases/{ref}/acknowledge": CASE,
    "POST /api/v1/cases/{ref}/assign": CASE,
    "POST /api/v1/cases/{ref}/steps/{step}/done": CASE,
    "POST /api/v1/cases/{ref}/steps/{step}/skip": CASE,
    "POST /api/v1/cases/{ref}/await-customer": CASE,
    "POST /api/v1/cases/{ref}/resume": CASE,
    "POST /api/v1/cases/{ref}/resolve": CASE,
    "POST /api/v1/cases/{ref}/close": CASE,
    "POST /api/v1/cases/{ref}/reopen": CASE,
    # ---- API: remedies ------------------------------------------------------------------------
    "POST /api/v1/cases/{ref}/remedies": CASE,
    "GET /api/v1/cases/{ref}/remedies": CASE,
    "GET /api/v1/cases/{ref}/remedies/headroom": CASE,
    "GET /api/v1/remedies/{remedy_id}": CASE,
    "POST /api/v1/remedies/{remedy_id}/issue": CASE,
    "POST /api/v1/remedies/{remedy_id}/cancel": CASE,
    "GET /api/v1/approvals": STAFF,  # each sees the approvals routed to them
    "POST /api/v1/approvals/{remedy_id}/approve": SUPERVISOR,
    "POST /api/v1/approvals/{remedy_id}/reject": SUPERVISOR,
    "POST /api/v1/cases/{ref}/remedy-menus": CASE,
    "GET /api/v1/cases/{ref}/remedy-menus": CASE,
    "POST /api/v1/remedy-menus/{menu_id}/choose": CASE,
    "GET /api/v1/authority/rules": STAFF,  # agents see only their own overrides
    "PUT /api/v1/authority/rules": ADMIN,
    "GET /api/v1/me/authority": STAFF,
    "GET /api/v1/reports/remedies": SUPERVISOR,
    # ---- API: promises, escalations, notifications --------------------------------------------
    "POST /api/v1/cases/{ref}/commitments": CASE,
    "GET /api/v1/cases/{ref}/commitments": CASE,
    "GET /api/v1/commitments": STAFF,
    "GET /api/v1/commitments/{commitment_id}": CASE,
    "POST /api/v1/commitments/{commitment_id}/keep": CASE,
    "POST /api/v1/commitments/{commitment_id}/cancel": CASE,
    "POST /api/v1/commitments/{commitment_id}/reschedule": CASE,
    "POST /api/v1/cases/{ref}/escalations": CASE,
    "GET /api/v1/cases/{ref}/escalations": CASE,
    "GET /api/v1/escalations": STAFF,
    "POST /api/v1/escalations/{escalation_id}/decide": SUPERVISOR,
    "GET /api/v1/notifications": STAFF,  # each their own
    # The world's notification is the supervisor's: only they may mark it read.
    "POST /api/v1/notifications/{notification_id}/read": NOTED,
    "POST /api/v1/notifications/read-all": STAFF,
    "GET /api/v1/measures/promises": STAFF,
    # ---- web: sign-in, queues, cases, customers ----------------------------------------------
    "web:login": PUBLIC,
    "web:logout": NOTED,  # everyone ends on the sign-in page, signed out
    "web:queue": STAFF,
    "web:my-queue": STAFF,
    "web:team-queues": STAFF,
    "web:all-queue": MANAGER,
    "web:unrouted-queue": STAFF,
    "web:team-queue": CASE,  # the case's team queue
    "web:case-new": STAFF,
    "web:case-detail": CASE,
    "web:case-panels": CASE,
    "web:case-acknowledge": CASE,
    "web:case-assign": CASE,
    "web:case-await-customer": CASE,
    "web:case-resume": CASE,
    "web:case-resolve": CASE,
    "web:case-close": CASE,
    "web:case-reopen": CASE,
    "web:case-update": CASE,
    "web:case-step-done": CASE,
    "web:case-step-skip": CASE,
    "web:case-message-add": CASE,
    "web:customer-list": STAFF,
    "web:customer-search": STAFF,
    "web:customer-detail": STAFF,
    # ---- web: remedies -------------------------------------------------------------------------
    "web:remedy-panel": CASE,
    "web:remedy-headroom": CASE,
    "web:remedy-propose": CASE,
    "web:remedy-menu-create": CASE,
    "web:remedy-menu-choose": CASE,
    "web:remedy-issue": CASE,
    "web:remedy-cancel": CASE,
    "web:approval-list": STAFF,
    "web:approval-approve": SUPERVISOR,
    "web:approval-reject": SUPERVISOR,
    "web:authority-mine": STAFF,
    "web:remedy-report": STAFF,
    # ---- web: promises, escalations, notifications ---------------------------------------------
    "web:promises-due": STAFF,
    "web:promise-measures": STAFF,
    "web:commitment-create": CASE,
    "web:commitment-keep": CASE,
    "web:commitment-evidence": NOTED,  # needs a kept promise with a file (commitments tests)
    "web:commitment-cancel": CASE,
    "web:commitment-reschedule": CASE,
    "web:escalation-list": STAFF,
    "web:escalation-raise": CASE,
    "web:escalation-decide": SUPERVISOR,
    "web:notification-list": STAFF,
    "web:notification-bell": STAFF,
    "web:notification-read-all": STAFF,
}
