"""Every setting Amends has. Production differs from a laptop only by environment variables."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dj_database_url

from config.env import BASE_DIR, data_dir, env_bool, env_int, env_list, env_str

DEBUG = env_bool("DEBUG", False)
# A random development key is generated per data directory; production must set SECRET_KEY.
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    _key_file = data_dir() / "secret_key"
    if not _key_file.exists():
        import secrets

        _key_file.write_text(secrets.token_urlsafe(50))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # The admin, discovered by the URLconf rather than at start (config/admin_config.py).
    "config.admin_config.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "amends.core",
    "amends.accounts",
    "amends.customers",
    "amends.taxonomy",
    "amends.policies",
    "amends.cases",
    "amends.remedies",
    "amends.commitments",
    "amends.channels",
    "amends.insight",
    "amends.incidents",
    "amends.feedback",
    "amends.loyalty",
    "amends.api",
    "amends.web",
    "amends.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "amends.api.middleware.ApiJsonErrorsMiddleware",
    "amends.core.middleware.RequestGuardMiddleware",
    "amends.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Times in the reader's zone (their own, else the organisation's), looked up lazily.
    "amends.accounts.middleware.TimeZoneMiddleware",
    "amends.core.idempotency.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "amends.web.errors.ApplicationErrorMiddleware",
    # Last: turns a login refused by the throttle into the "locked" page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "amends.web.context_processors.staff",
            ],
        },
    },
]


def _database() -> dict[str, Any]:
    url = env_str("DATABASE_URL")
    if url:
        config: dict[str, Any] = dict(
            dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
        )
    else:
        config = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(data_dir() / "amends.sqlite3"),
        }
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers proceed while one writer commits; IMMEDIATE takes the write lock
        # at BEGIN so concurrent writers queue on busy_timeout instead of failing mid-transaction.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA cache_size=-64000; PRAGMA mmap_size=268435456;"
            ),
        }
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The four Django validators; `amends user create` and the admin enforce them.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("AMENDS_PASSWORD_MIN_LENGTH", 10)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes checks the login throttle first; API bearer tokens never pass through here.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LANGUAGE_CODE = "en"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:queue"
LOGOUT_REDIRECT_URL = "web:login"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- guard rails (security headers, login throttling, idempotency); docs/security.md -------
# Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto (the proxy must
# overwrite that header); then request.is_secure() follows the proxy.
if env_str("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + env_str("SECURE_PROXY_SSL_HEADER").upper().replace("-", "_"),
        "https",
    )
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No inline script or style anywhere: scripts and styles live in static files.
AMENDS_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
AMENDS_CSP_REPORT_ONLY = env_bool("AMENDS_CSP_REPORT_ONLY", False)
# Login throttling (django-axes): AMENDS_LOGIN_FAILURE_LIMIT wrong passwords lock that
# username, and separately that address, for AMENDS_LOGIN_COOLOFF_MINUTES; a success resets.
AXES_FAILURE_LIMIT = env_int("AMENDS_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AMENDS_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
# The client address is REMOTE_ADDR unless Amends runs behind AMENDS_TRUSTED_PROXIES proxies
# (then the address those proxies append to X-Forwarded-For): a client cannot forge it.
AXES_IPWARE_PROXY_COUNT = env_int("AMENDS_TRUSTED_PROXIES", 0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)

# Mail: SMTP by default, configured from the environment.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "amends@localhost")
# Used only with EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend (the demo).
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(data_dir() / "sent-mail"))

# Background work: the database backend by default, Redis/RQ when REDIS_URL is set.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Amends' own knobs.
AMENDS: dict[str, Any] = {
    # Share of an SLA target left at which a case counts as "at risk".
    "SLA_AT_RISK_FRACTION": float(env_str("AMENDS_SLA_AT_RISK_FRACTION", "0.25")),
    "DEFAULT_PAGE_SIZE": env_int("AMENDS_PAGE_SIZE", 25),
    "MAX_PAGE_SIZE": 200,
    # Business hours an approver has to decide on a remedy above the proposer's authority.
    "APPROVAL_DECISION_HOURS": float(env_str("AMENDS_APPROVAL_DECISION_HOURS", "4")),
    # The organisation's currency until its settings are saved in the admin (and TIME_ZONE
    # its time zone): amends.core.organisation.
    "DEFAULT_CURRENCY": env_str("AMENDS_CURRENCY", "USD").upper(),
    # Remedy forms offer the organisation's currency, these, and those already in use.
    "OFFERED_CURRENCIES": [c.upper() for c in env_list("AMENDS_OFFERED_CURRENCIES", "GBP,EUR,USD")],
}

# Promises, escalations and notifications (the commitments app).
AMENDS.update(
    {
        # A reminder goes to a promise's owner this long before it falls due.
        "COMMITMENT_REMINDER_LEAD_MINUTES": env_int("AMENDS_COMMITMENT_REMINDER_LEAD_MINUTES", 60),
        # Rows a sweep handles per transaction (short locks; a killed sweep loses one batch).
        "SWEEP_BATCH_SIZE": env_int("AMENDS_SWEEP_BATCH_SIZE", 1000),
        # Email every notification as well as showing it in the app.
        "NOTIFICATION_EMAIL": env_bool("AMENDS_NOTIFICATION_EMAIL", True),
    }
)

# Uploaded files (evidence that a promise was kept), kept next to the SQLite database by default.
MEDIA_ROOT = env_str("MEDIA_ROOT", str(data_dir() / "media"))
MEDIA_URL = "/media/"

# Business minutes each escalation level has to decide, counted in the case's calendar.
AMENDS_ESCALATION_DECISION_MINUTES = {
    "supervisor": env_int("AMENDS_ESCALATION_SUPERVISOR_MINUTES", 4 * 60),
    "manager": env_int("AMENDS_ESCALATION_MANAGER_MINUTES", 8 * 60),
    "executive": env_int("AMENDS_ESCALATION_EXECUTIVE_MINUTES", 16 * 60),
}

# Periodic sweeps run by `amends sweep` (once) and `amends worker` (on a schedule): dotted
# paths to functions `fn(*, now: datetime) -> int` that are idempotent and safe to run from
# several workers at once.
AMENDS_SWEEPS = [
    "amends.cases.sweeps.sla_sweep",
    "amends.commitments.sweeps.commitment_sweep",
    "amends.commitments.sweeps.escalation_sweep",
    "amends.remedies.sweeps.approval_sweep",
    "amends.commitments.sweeps.notification_email_sweep",
]
AMENDS_SWEEP_INTERVAL_SECONDS = env_int("AMENDS_SWEEP_INTERVAL_SECONDS", 60)

# Guard rails (docs/security.md): idempotency keys and request limits.
AMENDS.update(
    {
        # How long a POST's Idempotency-Key and its answer are kept for replay.
        "IDEMPOTENCY_KEY_HOURS": float(env_str("AMENDS_IDEMPOTENCY_KEY_HOURS", "24")),
        # Query strings longer than this answer 414.
        "MAX_QUERY_STRING": env_int("AMENDS_MAX_QUERY_STRING", 8192),
    }
)
AMENDS_SWEEPS += ["amends.core.idempotency.idempotency_sweep"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# --- channels (inbound/outbound mail, web form, portal, imports, webhooks) ------------------
AMENDS.update(
    {
        # Absolute base of links we mail out (portal links): scheme://host[:port].
        "PUBLIC_BASE_URL": env_str("AMENDS_PUBLIC_BASE_URL", "http://127.0.0.1:8000"),
        # From and Reply-To of mail to customers (Reply-To: the mailbox `mail ingest` reads).
        "MAIL_FROM": env_str("AMENDS_MAIL_FROM", ""),
        "MAIL_REPLY_TO": env_str("AMENDS_MAIL_REPLY_TO", ""),
        # Domain of our Message-IDs (default: the From address's domain).
        "MAIL_DOMAIN": env_str("AMENDS_MAIL_DOMAIN", ""),
        # Outbound retries: attempts, then waits of base, 2×base, 4×base … (capped at 6 h).
        "OUTBOUND_MAX_ATTEMPTS": env_int("AMENDS_OUTBOUND_MAX_ATTEMPTS", 8),
        "OUTBOUND_BACKOFF_SECONDS": env_int("AMENDS_OUTBOUND_BACKOFF_SECONDS", 60),
        "OUTBOUND_LEASE_SECONDS": env_int("AMENDS_OUTBOUND_LEASE_SECONDS", 600),
        # Days a customer portal link stays valid.
        "PORTAL_LINK_DAYS": env_int("AMENDS_PORTAL_LINK_DAYS", 30),
        # Inbound mail: raw originals and quarantine (outside the web root), size limits, and
        # the loop guard (mail from one address per hour beyond which it is ignored).
        "MAIL_DIR": env_str("AMENDS_MAIL_DIR", str(data_dir() / "mail")),
        "MAIL_MAX_BYTES": env_int("AMENDS_MAIL_MAX_BYTES", 25 * 1024 * 1024),
        "MAIL_MAX_ATTACHMENTS": env_int("AMENDS_MAIL_MAX_ATTACHMENTS", 20),
        "MAIL_MAX_PER_SENDER_HOUR": env_int("AMENDS_MAIL_MAX_PER_SENDER_HOUR", 30),
        # Files customers send (mail, form, portal), served only through permission checks.
        "ATTACHMENT_DIR": env_str("AMENDS_ATTACHMENT_DIR", str(data_dir() / "attachments")),
        "ATTACHMENT_MAX_BYTES": env_int("AMENDS_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024),
        "ATTACHMENT_MAX_PER_MESSAGE": env_int("AMENDS_ATTACHMENT_MAX_PER_MESSAGE", 5),
        # Imports on PostgreSQL: threads of their own (each a connection) send the prepared
        # chunks and wait for the server while the next one is read and prepared
        # (docs/channels.md). SQLite always writes on the importing thread.
        "IMPORT_WRITER_THREAD": env_bool("AMENDS_IMPORT_WRITER_THREAD", True),
        "IMPORT_WRITER_THREADS": env_int("AMENDS_IMPORT_WRITER_THREADS", 2),
        # Webhooks: attempts per event, and failures in a row after which an endpoint is off.
        "WEBHOOK_MAX_ATTEMPTS": env_int("AMENDS_WEBHOOK_MAX_ATTEMPTS", 8),
        "WEBHOOK_DISABLE_AFTER": env_int("AMENDS_WEBHOOK_DISABLE_AFTER", 20),
        "WEBHOOK_TIMEOUT_SECONDS": env_int("AMENDS_WEBHOOK_TIMEOUT_SECONDS", 10),
        # Public form: submissions per IP and per address per hour.
        "REPORT_MAX_PER_IP_HOUR": env_int("AMENDS_REPORT_MAX_PER_IP_HOUR", 10),
        "REPORT_MAX_PER_ADDRESS_HOUR": env_int("AMENDS_REPORT_MAX_PER_ADDRESS_HOUR", 5),
    }
)
AMENDS_SWEEPS += [
    "amends.channels.services.outbound.outbound_sweep",
    "amends.channels.services.webhooks.webhook_sweep",
]

# --- insight (emotion, apology coach, triage, repeat failures) -----------------------------
AMENDS.update(
    {
        # Trained model files (`amends emotion train`, `amends triage train`); empty: the
        # built-in scorer only, and no category suggestions.
        "EMOTION_MODEL": env_str("AMENDS_EMOTION_MODEL"),
        "TRIAGE_MODEL": env_str("AMENDS_TRIAGE_MODEL"),
        # A suggested category at or above this confidence is applied to a new case that has
        # none; below it, staff see it as a suggestion.
        "TRIAGE_APPLY_THRESHOLD": float(env_str("AMENDS_TRIAGE_APPLY_THRESHOLD", "0.8")),
        # How much each signal raises a case in the "upset first" queue (priority is
        # upset * intensity + churn + escalation + repeat + double deviation, each weighted).
        "INSIGHT_QUEUE_WEIGHTS": {
            "upset": float(env_str("AMENDS_INSIGHT_WEIGHT_UPSET", "1.0")),
            "churn_intent": float(env_str("AMENDS_INSIGHT_WEIGHT_CHURN", "1.0")),
            "escalation_threat": float(env_str("AMENDS_INSIGHT_WEIGHT_ESCALATION", "0.8")),
            "repeat": float(env_str("AMENDS_INSIGHT_WEIGHT_REPEAT", "0.8")),
            "double_deviation": float(env_str("AMENDS_INSIGHT_WEIGHT_DOUBLE_DEVIATION", "1.0")),
        },
        # The queues' order when nobody picks one: "" (nearest due first) or "attention" (most
        # upset first by the weights above, then nearest due).
        "QUEUE_DEFAULT_SORT": env_str("AMENDS_QUEUE_DEFAULT_SORT"),
        # Repeat failures: earlier cases of the same customer within this many days, with the
        # same category or service or a description at least this similar (0-1).
        "REPEAT_WINDOW_DAYS": env_int("AMENDS_REPEAT_WINDOW_DAYS", 180),
        "REPEAT_TEXT_SIMILARITY": float(env_str("AMENDS_REPEAT_TEXT_SIMILARITY", "0.35")),
        # Severity levels a repeat raises a new case by (0: none; 1 = critical is the top).
        "REPEAT_SEVERITY_STEP": env_int("AMENDS_REPEAT_SEVERITY_STEP", 1),
    }
)

# --- incidents (mass failures, recovery policies, proactive notification) ------------------
AMENDS.update(
    {
        # Customers covered per batch of a notification round (one transaction each).
        "INCIDENT_ROUND_BATCH": env_int("AMENDS_INCIDENT_ROUND_BATCH", 500),
    }
)
AMENDS_SWEEPS += [
    "amends.incidents.sweeps.rounds_sweep",
    "amends.incidents.sweeps.choices_sweep",
]

# --- feedback (surveys, compliments, staff reviews, KPIs) ----------------------------------
# Survey wording and timing are edited in the admin (Survey settings); these are the rest.
AMENDS.update(
    {
        # Business hours a colleague has to answer a request for a second look.
        "SECOND_LOOK_HOURS": float(env_str("AMENDS_SECOND_LOOK_HOURS", "4")),
    }
)
AMENDS_SWEEPS += ["amends.feedback.sweeps.survey_sweep"]
AMENDS_SWEEPS += ["amends.loyalty.sweeps.fact_refresh_sweep"]

# --- loyalty (risk, win-back, root causes, paradox, dashboards) ----------------------------
AMENDS.update(
    {
        # Points each risk factor adds to a customer's score (0-100, capped); see docs/loyalty.md.
        "LOYALTY_RISK_WEIGHTS": {
            "open_case": 10,  # per open case, at most open_case_cap
            "open_case_cap": 30,
            "repeat_failure": 10,  # per earlier failure in the repeat window, at most the cap
            "repeat_failure_cap": 20,
            "broken_promise": 15,  # per broken promise in the window, at most the cap
            "broken_promise_cap": 30,
            "unresolved_per_day": 1,  # per day the oldest open case has been open
            "unresolved_cap": 15,
            "upset": 10,  # an upset message within the signal window
            "churn_intent": 25,  # "I will change provider" within the signal window
            "low_survey": 15,  # CSAT <= 2, NPS <= 6 or would-use-again <= 2
            "contract_ending": 10,  # contract ends within LOYALTY_CONTRACT_DAYS
            "special_handling": 5,
        },
        "LOYALTY_REPEAT_WINDOW_DAYS": env_int("AMENDS_LOYALTY_REPEAT_WINDOW_DAYS", 180),
        "LOYALTY_SIGNAL_WINDOW_DAYS": env_int("AMENDS_LOYALTY_SIGNAL_WINDOW_DAYS", 60),
        "LOYALTY_CONTRACT_DAYS": env_int("AMENDS_LOYALTY_CONTRACT_DAYS", 60),
        # Score at which an active customer becomes at risk, and below which they are active
        # again (the gap stops a customer flapping between the two).
        "LOYALTY_AT_RISK_SCORE": env_int("AMENDS_LOYALTY_AT_RISK_SCORE", 50),
        "LOYALTY_ACTIVE_SCORE": env_int("AMENDS_LOYALTY_ACTIVE_SCORE", 40),
        # Groups smaller than this are marked "small" in the paradox report.
        "LOYALTY_SMALL_GROUP": env_int("AMENDS_LOYALTY_SMALL_GROUP", 30),
    }
)
