"""Settings, from environment variables only; every one has a working local default."""

import ipaddress
import os
from pathlib import Path

import dj_database_url
import structlog

from config import deployment

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)
# Local by default: only loopback names are served. A deployment names its hosts, and is then
# held to production rules (config/deployment.py): no repository default secret, HTTPS only.
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", ",".join(deployment.LOOPBACK_HOSTS)).split(",")
DEPLOYED = deployment.is_deployed(debug=DEBUG, allowed_hosts=ALLOWED_HOSTS)

# Secrets: every default below is public (it is in the repository) and works locally only.
SECRET_KEY = os.environ.get("SECRET_KEY", deployment.LOCAL_SECRET_KEY)
PSP_WEBHOOK_SECRET = os.environ.get("PSP_WEBHOOK_SECRET", deployment.LOCAL_PSP_WEBHOOK_SECRET)
# Rotation: the PSP signs with its new secret (PSP_WEBHOOK_SECRET here) while webhooks signed
# with the previous ones (comma-separated) are still accepted, until they are removed.
PSP_WEBHOOK_PREVIOUS_SECRETS = deployment.env_list("PSP_WEBHOOK_PREVIOUS_SECRETS")
# CPF pseudonymisation (retail/customers/pii.py), keys of their own, never SECRET_KEY:
# the lookup key (HMAC-SHA256) and the encryption keys as `key-id:base64 of 32 bytes`,
# comma-separated, the first one encrypting; the others still decrypt rows written under them.
PII_HMAC_KEY = os.environ.get("PII_HMAC_KEY", deployment.LOCAL_PII_HMAC_KEY)
PII_ENCRYPTION_KEYS = deployment.env_list("PII_ENCRYPTION_KEYS") or [
    deployment.LOCAL_PII_ENCRYPTION_KEY
]
# The audit chain's checkpoints are signed with it (retail/audit): keep it out of the database
# and away from whoever administers it, so a rewritten chain cannot be re-signed.
AUDIT_CHECKPOINT_KEY = os.environ.get("AUDIT_CHECKPOINT_KEY", deployment.LOCAL_AUDIT_CHECKPOINT_KEY)
if DEPLOYED:
    deployment.refuse_local_secrets(
        AUDIT_CHECKPOINT_KEY=[AUDIT_CHECKPOINT_KEY],
        SECRET_KEY=[SECRET_KEY],
        PSP_WEBHOOK_SECRET=[PSP_WEBHOOK_SECRET],
        PII_HMAC_KEY=[PII_HMAC_KEY],
        PII_ENCRYPTION_KEYS=PII_ENCRYPTION_KEYS,
    )

DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://localhost:5432/rastro")
REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
LEGACY_URL = os.environ.get("LEGACY_URL", "http://127.0.0.1:8090")
PSP_URL = os.environ.get("PSP_URL", "http://127.0.0.1:8091")
PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:8000")
# Our own load balancers/proxies (comma-separated IPs or CIDRs): only their X-Forwarded-For is
# believed for the shopper's IP (retail/platform/client_address.py). A bad entry fails startup.
TRUSTED_PROXIES = [
    str(ipaddress.ip_network(proxy)) for proxy in deployment.env_list("TRUSTED_PROXIES")
]

# --- HTTPS and cookies (manage.py check --deploy is clean when DEPLOYED) -------------
# TLS ends at our load balancer, which says so in X-Forwarded-Proto (and strips a client's).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", DEPLOYED)
# Probes and Prometheus talk plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31_536_000 if DEPLOYED else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = DEPLOYED
# The admin's session and CSRF cookies are sent to the admin only, never to legacy's pages.
SESSION_COOKIE_PATH = CSRF_COOKIE_PATH = "/admin/"
# Messages (a revealed CPF, a new key) live in the session, never in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_prometheus",
    "retail.platform",
    "retail.catalog",
    "retail.channels",
    "retail.customers",
    "retail.inventory",
    "retail.orders",
    "retail.payments",
    "retail.ledger",
    "retail.fulfillment",
    "retail.audit",
    "retail.compliance",
    "strangler",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "retail.platform.middleware.RequestIdMiddleware",
    "strangler.middleware.StranglerMiddleware",
    "retail.platform.middleware.PayloadLimitMiddleware",
    "retail.platform.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "retail.audit.middleware.AuditorReadOnlyMiddleware",
    "retail.audit.middleware.RequestTrailMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# History is read, never reverted in admin (retail/audit/public.py, AuditedHistoryAdmin): state
# changes go through services.
SIMPLE_HISTORY_REVERT_DISABLED = True

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
APPEND_SLASH = False

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
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
# A request or task that hangs inside a transaction is cut off, releasing its locks (and with
# them any idempotency key it held) well within the contract's 60 s.
# A backend whose client died (a worker killed mid-query, waiting on a lock) notices within a
# second and lets its locks go, instead of holding them until its statement times out.
DATABASES["default"]["OPTIONS"] = {
    "options": "-c idle_in_transaction_session_timeout=30000 -c statement_timeout=30000"
    " -c client_connection_check_interval=1000"
}
# The role web, workers and beat connect as when it is not the one that ran the migrations:
# it owns no table and gets exactly the grants of retail/audit/database_roles.py after every
# migrate (make run: rastro_app; migrations run as the owner, DATABASE_URL's user).
DATABASE_APP_ROLE = os.environ.get("DATABASE_APP_ROLE", "")
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME", "test_rastro")}

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# Serve app static files (Swagger UI, admin) straight from the apps when not collected yet.
WHITENOISE_USE_FINDERS = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Request bodies over 1 MB are refused with 413 payload_too_large (CONTRACT.md).
MAX_REQUEST_BODY_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["retail.platform.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "retail.platform.problems.drf_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Rastro API",
    "DESCRIPTION": "Multi-channel retail backend. Money is integer centavos (BRL).",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Several fields are called "status": one named enum per choice set (values as they are
    # on the wire; tests/api/test_openapi_schema.py checks them against the code's enums).
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": [
            "pending_payment",
            "paid",
            "fulfilled",
            "delivered",
            "partially_refunded",
            "refunded",
            "payment_failed",
            "cancelled",
        ],
        "OrderPaymentStatusEnum": ["pending", "authorized", "captured", "failed"],
        "OrderRefundStatusEnum": ["pending", "succeeded", "failed"],
        "RefundStatusEnum": ["requested", "succeeded", "failed"],
        "AlertStatusEnum": ["selected", "decided"],
        "CaseStatusEnum": ["open", "communicate", "archived"],
    },
}

# --- Event kernel ------------------------------------------------------------------
IDEMPOTENCY_KEY_TTL_S = int(os.environ.get("IDEMPOTENCY_KEY_TTL_S", 24 * 3600))
OUTBOX_BATCH_SIZE = int(os.environ.get("OUTBOX_BATCH_SIZE", 500))
# A relay transaction stops taking up events after this long: its consumers' row locks (stock
# rows of paid orders) must not be held for a whole batch of slow consumers.
OUTBOX_BATCH_BUDGET_MS = int(os.environ.get("OUTBOX_BATCH_BUDGET_MS", 200))
OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", 8))
OUTBOX_RETRY_BASE_S = float(os.environ.get("OUTBOX_RETRY_BASE_S", 1.0))
OUTBOX_RETRY_CAP_S = float(os.environ.get("OUTBOX_RETRY_CAP_S", 300.0))
OUTBOX_SWEEP_INTERVAL_S = float(os.environ.get("OUTBOX_SWEEP_INTERVAL_S", 2.0))
OUTBOX_LOCK_TIMEOUT_MS = int(os.environ.get("OUTBOX_LOCK_TIMEOUT_MS", 250))
# Consumer lanes and the Celery queue each one's relay runs on (retail/platform/inbox.py):
# `core` is the money path on the default queue; the others are consumed by workers of their
# own (Procfile: worker-side), so a slow or failing consumer delays only its lane.
OUTBOX_LANE_QUEUES = {"core": "celery", "compliance": "relay.compliance", "audit": "relay.audit"}
# A side lane's relay starts this long after the kick: nobody waits for an AML record or an
# audit entry within a second, and the events of that interval then share one relay
# transaction (for the audit lane, one chain lock per interval instead of one per event).
# The core lane starts at once: an order waits for its payment.
OUTBOX_LANE_KICK_DELAY_S = {
    "compliance": float(os.environ.get("OUTBOX_COMPLIANCE_KICK_DELAY_S", 0.5)),
    "audit": float(os.environ.get("OUTBOX_AUDIT_KICK_DELAY_S", 0.5)),
}

# --- Strangler routing layer (strangler/, docs/migration.md) -------------------------
# Off under pytest (conftest.py): tests of the new side need no route table; strangler's
# own tests switch it on.
STRANGLER_ENABLED = env_bool("STRANGLER_ENABLED", True)
# An Authorization bearing one of these (Rastro's channel keys and staff tokens, see
# retail/channels/domain.py) is never forwarded to legacy.
STRANGLER_OWN_CREDENTIAL_PREFIXES = ["rk_live_", "rst_"]
# What `manage.py route_set --defaults` applies, and what an empty route table means.
STRANGLER_DEFAULT_ROUTES = [("/api/v1/", "new"), ("/legacy/", "legacy")]
# Rastro's own paths, never routed by the table.
STRANGLER_OPERATIONAL_PREFIXES = [
    "/admin/",
    "/api/schema/",
    "/api/docs/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/webhooks/",
    "/static/",
]
STRANGLER_ROUTE_REFRESH_S = float(os.environ.get("STRANGLER_ROUTE_REFRESH_S", "1.0"))
STRANGLER_CONNECT_TIMEOUT_S = float(os.environ.get("STRANGLER_CONNECT_TIMEOUT_S", "2"))
STRANGLER_READ_TIMEOUT_S = float(os.environ.get("STRANGLER_READ_TIMEOUT_S", "20"))
STRANGLER_RETRIES = int(os.environ.get("STRANGLER_RETRIES", "1"))  # idempotent methods only
STRANGLER_BREAKER_FAILURES = int(os.environ.get("STRANGLER_BREAKER_FAILURES", "5"))
STRANGLER_BREAKER_RESET_S = float(os.environ.get("STRANGLER_BREAKER_RESET_S", "10"))
STRANGLER_SHADOW_WORKERS = int(os.environ.get("STRANGLER_SHADOW_WORKERS", "2"))
STRANGLER_SHADOW_MAX_PENDING = int(os.environ.get("STRANGLER_SHADOW_MAX_PENDING", "64"))
STRANGLER_SHADOW_MAX_BODY_BYTES = 1024 * 1024  # larger bodies: statuses compared only

# --- Payments (retail/payments): PSP client, retries, reconciliation -------------------
PSP_CONNECT_TIMEOUT_S = float(os.environ.get("PSP_CONNECT_TIMEOUT_S", "2"))
PSP_READ_TIMEOUT_S = float(os.environ.get("PSP_READ_TIMEOUT_S", "10"))
PSP_RETRY_BASE_S = float(os.environ.get("PSP_RETRY_BASE_S", "1"))  # doubles per retry, cap 60 s
# A payment or refund the PSP has not accepted is the sweep's after this grace (its after-commit
# task normally submits it within milliseconds); the sweep runs every PSP_SUBMIT_SWEEP_S.
PSP_SUBMIT_GRACE_S = float(os.environ.get("PSP_SUBMIT_GRACE_S", "3"))
PSP_SUBMIT_SWEEP_S = float(os.environ.get("PSP_SUBMIT_SWEEP_S", "2"))
# "The PSP is down": this many failures in a row open the breaker for PSP_BREAKER_RESET_S.
PSP_BREAKER_FAILURES = int(os.environ.get("PSP_BREAKER_FAILURES", "5"))
PSP_BREAKER_RESET_S = float(os.environ.get("PSP_BREAKER_RESET_S", "10"))
PAYMENT_RECONCILE_AFTER_S = float(os.environ.get("PAYMENT_RECONCILE_AFTER_S", "60"))
PAYMENT_ABANDON_AFTER_S = float(os.environ.get("PAYMENT_ABANDON_AFTER_S", "3600"))

# --- Compliance (retail/compliance): the reporting institution in SISCOAF communications --
COMPLIANCE_REPORTER_CNPJ = os.environ.get("COMPLIANCE_REPORTER_CNPJ", "00000000000191")
COMPLIANCE_REPORTER_NAME = os.environ.get("COMPLIANCE_REPORTER_NAME", "Rastro Varejo Ltda")
COMPLIANCE_PSP_NAME = os.environ.get("COMPLIANCE_PSP_NAME", "sandbox.psp")
# End-customer IPs shared by many people (carrier NAT, a store's Wi-Fi; comma-separated IPs or
# CIDRs): they never link customers in the shared-identity rule. A bad entry fails startup.
COMPLIANCE_SHARED_ADDRESSES = [
    str(ipaddress.ip_network(address))
    for address in deployment.env_list("COMPLIANCE_SHARED_ADDRESSES")
]
# Rule evaluation waits this long for a holder being evaluated elsewhere, then gives up (the
# windowed sweep evaluates it later): a relay worker never hangs behind a stuck transaction.
COMPLIANCE_HOLDER_LOCK_TIMEOUT_MS = int(os.environ.get("COMPLIANCE_HOLDER_LOCK_TIMEOUT_MS", 5000))

# --- Celery (see config/celery.py for why each setting is what it is) -------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE = {
    **{
        f"outbox-relay-sweep-{lane}": {
            "task": "platform.relay_sweep",
            "schedule": OUTBOX_SWEEP_INTERVAL_S,
            "args": (lane,),
            "options": {"expires": OUTBOX_SWEEP_INTERVAL_S * 5, "queue": queue},
        }
        for lane, queue in OUTBOX_LANE_QUEUES.items()
    },
    "idempotency-keys-expire": {"task": "platform.idempotency_keys_expire", "schedule": 3600.0},
    "audit-checkpoint": {"task": "audit.checkpoint", "schedule": 24 * 3600.0},
    # Unpaid orders past their reservation deadline → payment_failed, stock back (retail/orders).
    "orders-expire-unpaid": {
        "task": "orders.expire_unpaid",
        "schedule": 30.0,
        "options": {"expires": 30.0},
    },
    "compliance-windowed-rules": {
        "task": "compliance.windowed_rules_run",
        "schedule": 900.0,
        "options": {"expires": 900.0},
    },
    "payments-submit-sweep": {
        "task": "payments.submit_sweep",
        "schedule": PSP_SUBMIT_SWEEP_S,
        "options": {"expires": PSP_SUBMIT_SWEEP_S * 5},
    },
    "payments-stale-reconcile": {
        "task": "payments.stale_reconcile",
        "schedule": 30.0,
        "options": {"expires": 60.0},
    },
}

# --- Logging: structlog, one JSON object per line, carrying the request id --------
structlog.configure(
    processors=[
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        structlog.processors.JSONRenderer(),
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    cache_logger_on_first_use=True,
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
