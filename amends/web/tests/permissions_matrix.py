"""Who may call what: the permissions matrix, one line per API operation and web view.

test_permissions_matrix.py walks the URL conf (web views) and the OpenAPI document (API
operations) and calls each one as every role against one small organisation (`world`):

    anonymous, other_agent (agent of another team), agent, supervisor (both of the case's
    team), manager, admin; and, on public pages and customer links, customer (no account:
    the signed link the world issued to the case's customer)

A new endpoint without a line here fails the suite. Add one line per endpoint:

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
    SELF        only the world's agent: the staff member the object is about (their own account
                in a staff review)
    ASSIGNEE    only the world's supervisor: the one person the object was routed to (a second
                look they were asked for)
    LINK        only the customer holding the signed link; every other role calls with a forged
                token and must be refused, staff included (the link is the key, not the login)
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
SELF = "self"
ASSIGNEE = "assignee"
LINK = "link"
NOTED = "noted"

ROLES = ["anonymous", "other_agent", "agent", "supervisor", "manager", "admin"]
CUSTOMER = "customer"  # checked on PUBLIC and LINK lines

ALLOWED: dict[str, set[str]] = {
    PUBLIC: {*ROLES, CUSTOMER},
    STAFF: {"other_agent", "agent", "supervisor", "manager", "admin"},
    CASE: {"agent", "supervisor", "manager", "admin"},
    SUPERVISOR: {"supervisor", "manager", "admin"},
    MANAGER: {"manager", "admin"},
    ADMIN: {"admin"},
    SELF: {"agent"},
    ASSIGNEE: {"supervisor"},
    LINK: {CUSTOMER},
}

# An app still being built may be listed here while its lines are written: its endpoints
# without a line are then skipped (not failed). Keep it empty in a finished tree.
PENDING_APPS: set[str] = set()
# Web view modules whose name is not their app's.
VIEW_MODULE_APP = {"portal": "channels", "report": "channels"}
# Valid input for operations that read it before they check who asks (else a 422 for bad
# input would pass for "let in"). "{name}" is filled from the world's parameters; bytes are
# sent as an uploaded file.
WEB_FORM: dict[str, dict[str, str | bytes]] = {
    "web:approval-reject": {"reason": "Too much"},
    "web:customer-handling": {"tier": "vip"},
    "web:escalation-decide": {"decision": "Go ahead"},
    "web:feedback-survey-exclude": {"case_ref": "{ref}", "reason": "Asked for no survey"},
    "web:feedback-follow-up-done": {"outcome": "put_right", "note": "Called back"},
    "web:feedback-second-look-new": {
        "case_ref": "{ref}",
        "subject": "draft_reply",
        "draft": "We are sorry.",
    },
    "web:feedback-second-look-answer": {"decision": "approve"},
    "web:feedback-review-new": {"case_ref": "{ref}", "staff": "{agent_id}", "complaint": "Rude"},
    "web:feedback-review-account": {"account": "I was polite."},
    "web:feedback-review-decide": {"outcome": "not_upheld"},
    "web:feedback-compliment-log": {"text": "Thank you"},
    "web:incident-create": {
        "title": "Network down",
        "kind": "network_outage",
        "magnitude": "60",
        "started_at": "2026-01-05 08:00",
        "severity": "2",
    },
    "web:incident-affected": {"file": b"external_ref,name\nP-2,Kim\n"},
    "web:incident-preview": {"kind": "initial"},
    "web:incident-notify": {"kind": "initial"},
    "web:incident-status": {"status": "identified"},
    "web:incident-update": {"body": "Engineers are on site."},
    "web:incident-close": {
        "root_cause": "{root_cause_id}",
        "prevention": "Spare part stocked",
        "owner": "{agent_id}",
        "due_at": "2030-01-01 09:00",
    },
    "web:loyalty-status": {"status": "won_back", "reason": "Came back"},
    "web:loyalty-campaign-target": {"action": "respond"},
    "web:portal-reply": {"body": "Thank you"},
    "web:portal-choose": {"menu": "{menu_id}", "remedy": "{menu_remedy_id}"},
}
# multipart/form-data API operations: valid fields (bytes are sent as an uploaded file).
API_FORM: dict[str, dict[str, str | bytes]] = {
    "POST /api/v1/cases/{ref}/messages/with-files": {
        "direction": "internal",
        "body": "Note with a file",
        "attachments": b"a file",
    },
}
API_BODY: dict[str, dict[str, object]] = {
    "PUT /api/v1/customers/{customer_id}/handling": {"tier": "vip", "special_handling": False},
    "POST /api/v1/staff-reviews": {"case": "{ref}", "staff": "alice", "complaint": "Rude"},
    "POST /api/v1/compliments": {"staff": "alice", "text": "Thank you"},
    "POST /api/v1/cases/{ref}/second-looks": {"subject": "draft_reply", "draft": "Sorry."},
    "POST /api/v1/incidents/{incident_id}/close": {
        "root_cause_id": "{root_cause_id}",
        "prevention": "Spare part stocked",
        "prevention_owner": "alice",
        "prevention_due_at": "2030-01-01T09:00:00Z",
    },
    "POST /api/v1/recovery-policies": {
        "kind": "flight_delay",
        "name": "Care",
        "owner": "maria",
        "rules": [
            {
                "code": "meals",
                "label": "Meals",
                "remedy": "meals",
                "care": True,
                "when": [["magnitude", ">=", 120]],
            }
        ],
    },
    "POST /api/v1/loyalty/customers/{customer_id}/status": {
        "status": "won_back",
        "reason": "Came back",
    },
    "POST /api/v1/loyalty/campaigns": {
        "name": "Win back",
        "remedy_kind": "refund",
        "amount": "20.00",
        "currency": "USD",
        "budget": "1000",
        "subject": "We miss you",
        "body": "Come back",
    },
    "POST /api/v1/loyalty/campaigns/{campaign_id}/customers/{customer_id}": {"action": "respond"},
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
    "POST /api/v1/cases/{ref}/messages/with-files": CASE,
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
    "web:approval-badge": STAFF,
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
    # Each their own notification (another's is a 404): web/tests/test_time_money_polish.py.
    "web:notification-read": NOTED,
    "web:preferences": STAFF,
    "web:favicon": PUBLIC,
    # ---- web: desk work ----------------------------------------------------------------------
    "web:case-bulk": STAFF,  # a result per row; rows on cases the caller cannot see fail
    "web:approval-bulk": STAFF,  # rows not routed to the caller fail
    "web:case-tags": CASE,
    "web:case-merge": CASE,
    "web:case-presence": CASE,
    "web:case-canned-fill": CASE,
    "web:customer-handling": SUPERVISOR,
    # ---- API: desk work ----------------------------------------------------------------------
    # Bulk actions answer 200 with a result per row; each row goes through the normal service,
    # so a row on a case the caller may not see fails as not found (amends/api/tests).
    "POST /api/v1/cases/bulk": STAFF,
    "POST /api/v1/approvals/bulk": STAFF,  # rows not routed to the caller fail
    "GET /api/v1/cases/{ref}/tags": CASE,
    "POST /api/v1/cases/{ref}/tags": CASE,
    "GET /api/v1/tags": STAFF,
    "POST /api/v1/cases/{ref}/merge": CASE,
    "GET /api/v1/canned-replies": STAFF,
    "GET /api/v1/cases/{ref}/canned-replies": CASE,
    "PUT /api/v1/customers/{customer_id}/handling": SUPERVISOR,
    "GET /api/v1/customers/{customer_id}/history": STAFF,  # customers are shared
    # ---- API: channels ----------------------------------------------------------------------
    "GET /api/v1/cases/{ref}/emails": CASE,
    "POST /api/v1/cases/{ref}/emails/{email_id}/retry": CASE,
    "GET /api/v1/cases/{ref}/attachments": CASE,
    "GET /api/v1/cases/{ref}/attachments/{attachment_id}": CASE,
    "GET /api/v1/cases/{ref}/portal-links": CASE,
    "POST /api/v1/cases/{ref}/portal-links": CASE,
    "POST /api/v1/portal-links/{link_id}/revoke": CASE,
    "GET /api/v1/webhooks": ADMIN,
    "POST /api/v1/webhooks": ADMIN,
    "PATCH /api/v1/webhooks/{endpoint_id}": ADMIN,
    "GET /api/v1/webhooks/{endpoint_id}/deliveries": ADMIN,
    "POST /api/v1/webhook-deliveries/{delivery_id}/retry": ADMIN,
    # ---- API: insight -------------------------------------------------------------------------
    "POST /api/v1/insight/analyse": STAFF,  # scores the text it is given, reads nothing
    "POST /api/v1/insight/apology-check": STAFF,  # a case named in the body must be visible
    "GET /api/v1/insight/cases/{ref}": CASE,
    "GET /api/v1/insight/cases/{ref}/scores": CASE,
    "POST /api/v1/insight/scores/{score_id}/correct": CASE,
    "POST /api/v1/insight/cases/{ref}/triage/accept": CASE,
    "GET /api/v1/insight/queue": STAFF,  # the cases each may see
    "GET /api/v1/insight/coaching": STAFF,  # agents their own, supervisors their team
    # ---- API: incidents -----------------------------------------------------------------------
    # Incidents are organisation-wide: every staff member reads them (to link a complaint);
    # supervisors, managers and admins declare and run them.
    "POST /api/v1/incidents": SUPERVISOR,
    "GET /api/v1/incidents": STAFF,
    "GET /api/v1/incidents/{incident_id}": STAFF,
    "POST /api/v1/incidents/{incident_id}/affected": SUPERVISOR,
    "GET /api/v1/incidents/{incident_id}/affected": STAFF,  # customers are shared
    "POST /api/v1/incidents/{incident_id}/cases": SUPERVISOR,
    "POST /api/v1/incidents/{incident_id}/notify/preview": STAFF,  # renders, sends nothing
    "POST /api/v1/incidents/{incident_id}/notify": SUPERVISOR,
    "POST /api/v1/incidents/{incident_id}/status": SUPERVISOR,
    "POST /api/v1/incidents/{incident_id}/updates": SUPERVISOR,
    "POST /api/v1/incidents/{incident_id}/close": SUPERVISOR,
    "POST /api/v1/incidents/{incident_id}/dry-run": STAFF,  # prices, writes nothing
    "GET /api/v1/incidents/{incident_id}/progress": STAFF,
    "GET /api/v1/recovery-policies": STAFF,
    "POST /api/v1/recovery-policies": SUPERVISOR,
    "GET /api/v1/recovery-policies/{policy_id}": STAFF,
    "POST /api/v1/recovery-policies/{policy_id}/deactivate": SUPERVISOR,
    "POST /api/v1/recovery-policies/{policy_id}/dry-run": STAFF,  # writes nothing
    # ---- API: feedback ------------------------------------------------------------------------
    "GET /api/v1/surveys": STAFF,  # the surveys of cases each may see
    "GET /api/v1/surveys/{survey_id}": CASE,
    "POST /api/v1/cases/{ref}/survey-exclusion": CASE,
    "GET /api/v1/staff-reviews": STAFF,  # each sees the reviews they may
    # A staff review is about the world's agent: they, their supervisor, managers and admins
    # read it; only they give their account; the supervisor and above open and decide.
    "POST /api/v1/staff-reviews": SUPERVISOR,
    "GET /api/v1/staff-reviews/{review_id}": CASE,
    "POST /api/v1/staff-reviews/{review_id}/account": SELF,
    "POST /api/v1/staff-reviews/{review_id}/decide": SUPERVISOR,
    "GET /api/v1/kpis": STAFF,  # a person their own figures, a supervisor their team's
    "POST /api/v1/compliments": STAFF,
    "GET /api/v1/follow-ups": STAFF,  # each their own queue
    # The world's follow-up is the supervisor's (the agent's detractor): they or who manages them.
    "POST /api/v1/follow-ups/{follow_up_id}/complete": SUPERVISOR,
    "POST /api/v1/cases/{ref}/second-looks": CASE,
    "POST /api/v1/second-looks/{look_id}/answer": ASSIGNEE,  # the agent asked the supervisor
    # ---- API: loyalty -------------------------------------------------------------------------
    "GET /api/v1/analytics/overview": SUPERVISOR,
    "GET /api/v1/analytics/operations": SUPERVISOR,
    "GET /api/v1/analytics/mtbf": SUPERVISOR,
    "GET /api/v1/analytics/paradox": SUPERVISOR,
    "GET /api/v1/analytics/at-risk": SUPERVISOR,
    "GET /api/v1/analytics/cases": SUPERVISOR,
    "GET /api/v1/loyalty/customers/{customer_id}/risk": STAFF,  # on the customer page too
    "POST /api/v1/loyalty/customers/{customer_id}/status": STAFF,  # customers are shared
    "POST /api/v1/loyalty/campaigns": SUPERVISOR,
    "GET /api/v1/loyalty/campaigns/{campaign_id}": SUPERVISOR,
    "POST /api/v1/loyalty/campaigns/{campaign_id}/launch": SUPERVISOR,
    "POST /api/v1/loyalty/campaigns/{campaign_id}/customers/{customer_id}": SUPERVISOR,
    # ---- web: channels (public form, customer portal, a case's mail and files) ----------------
    "web:report": PUBLIC,
    "web:report-done": PUBLIC,
    "web:portal-link-request": PUBLIC,  # the same answer whether or not the case exists
    "web:portal": LINK,
    "web:portal-reply": LINK,
    "web:portal-choose": LINK,
    "web:portal-attachment": LINK,
    "web:case-attachment": CASE,
    "web:case-email-original": CASE,
    "web:case-email-retry": CASE,
    # ---- web: insight -------------------------------------------------------------------------
    "web:insight-panel": CASE,
    "web:insight-apology-check": CASE,
    "web:insight-triage-accept": CASE,
    "web:insight-score-correct": CASE,
    "web:insight-queue": STAFF,
    "web:insight-coaching": STAFF,
    # ---- web: incidents -----------------------------------------------------------------------
    "web:incident-list": STAFF,
    "web:incident-create": SUPERVISOR,
    "web:incident-detail": STAFF,
    "web:incident-progress": STAFF,
    "web:incident-affected": SUPERVISOR,
    "web:incident-preview": STAFF,  # renders, sends nothing
    "web:incident-notify": SUPERVISOR,
    "web:incident-status": SUPERVISOR,
    "web:incident-update": SUPERVISOR,
    "web:incident-close": SUPERVISOR,
    "web:incident-link": LINK,
    "web:incident-link-open": LINK,
    # ---- web: feedback ------------------------------------------------------------------------
    "web:survey": LINK,
    "web:survey-opt-out": LINK,
    "web:feedback-kpis": STAFF,
    "web:feedback-kpi-drill": STAFF,
    "web:feedback-champions": STAFF,
    "web:feedback-surveys": STAFF,
    "web:feedback-survey-exclude": CASE,
    "web:feedback-follow-ups": STAFF,
    "web:feedback-follow-up-done": SUPERVISOR,
    "web:feedback-second-looks": STAFF,
    "web:feedback-second-look-new": CASE,
    "web:feedback-second-look-answer": ASSIGNEE,
    "web:feedback-reviews": STAFF,
    "web:feedback-review-new": SUPERVISOR,
    "web:feedback-review-detail": CASE,
    "web:feedback-review-account": SELF,
    "web:feedback-review-decide": SUPERVISOR,
    "web:feedback-profile": STAFF,  # praise is public; the record only to them and above
    "web:feedback-compliment-log": STAFF,
    # ---- web: loyalty -------------------------------------------------------------------------
    "web:loyalty-dashboard": SUPERVISOR,
    "web:loyalty-operations": SUPERVISOR,
    "web:loyalty-paradox": SUPERVISOR,
    "web:loyalty-at-risk": SUPERVISOR,
    "web:loyalty-cases": SUPERVISOR,
    "web:loyalty-cancellations": SUPERVISOR,
    "web:loyalty-campaigns": SUPERVISOR,
    "web:loyalty-campaign": SUPERVISOR,
    "web:loyalty-campaign-launch": SUPERVISOR,
    "web:loyalty-campaign-target": SUPERVISOR,
    "web:loyalty-status": STAFF,  # the customer page's status move; customers are shared
}
