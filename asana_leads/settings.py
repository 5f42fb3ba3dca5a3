"""Settings for asana_leads, read from the environment (django-environ).

Every variable read here is listed in README.md. Without any of them the project runs on the
embedded defaults: SQLite under ``var/``, a filesystem Celery broker, a local-memory cache,
email to files. With ``DATABASE_URL`` and ``REDIS_URL`` it runs on PostgreSQL and Redis,
nothing else changed.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from asana_leads.local_secrets import (
    local_secret,
    new_django_secret_key,
    new_fernet_key,
    new_hmac_key,
)

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=False)


def _secret(name: str, filename: str, generate: object) -> str:
    value: str | None = env.str(name, default=None)
    if value:
        return value
    if not DEBUG:
        raise ImproperlyConfigured(
            f"{name} must be set when DJANGO_DEBUG is off "
            "(for local development set DJANGO_DEBUG=true, as `make run` does)."
        )
    return local_secret(VAR_DIR, filename, generate)  # type: ignore[arg-type]


SECRET_KEY = _secret("DJANGO_SECRET_KEY", "secret_key", new_django_secret_key)
# Newest first: the first key encrypts, all of them decrypt (MultiFernet).
PHI_ENCRYPTION_KEYS = [
    key.strip()
    for key in _secret("PHI_ENCRYPTION_KEYS", "phi_encryption_keys", new_fernet_key).split(",")
    if key.strip()
]
# Keyed hash for blind indexes (member ID + payer). Separate from the Fernet keys so that
# rotating those does not invalidate the index.
PHI_BLIND_INDEX_KEY = _secret("PHI_BLIND_INDEX_KEY", "phi_blind_index_key", new_hmac_key)

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # The admin on the two-factor site (apps/staff/admin_site.py).
    "apps.staff.admin_apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "apps.privacy",
    "apps.payers",
    "apps.leads",
    "apps.intake",
    # Not last: apps.staff re-syncs roles on the post_migrate of the last app, and an app
    # without models (this one) gets no post_migrate.
    "apps.website",
    "apps.health",
    "apps.staff",
    "apps.followups",
    "apps.books",
    "apps.admissions",
    "apps.marketing",
]

MIDDLEWARE = [
    "asana_leads.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Outside the body limit, so that its 413 reaches a plain HTML form as a page too.
    "apps.intake.html_answers.HtmlAnswerMiddleware",
    "asana_leads.middleware.DatabaseUnavailableMiddleware",
    "apps.intake.middleware.IntakeBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "apps.privacy.middleware.AuditRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username + IP before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "asana_leads.urls"
WSGI_APPLICATION = "asana_leads.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'asana_leads.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: WAL lets readers run beside one writer, IMMEDIATE
    # takes the write lock at BEGIN (no upgrade deadlocks), busy_timeout waits for it briefly
    # before "database is locked" turns into a 503.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env.float("SQLITE_BUSY_TIMEOUT", default=5.0),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("OPTIONS", {})
    # A database that is down must answer quickly (a 503), not hang the request.
    DATABASES["default"]["OPTIONS"].setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3)
    )
    # A statement waiting on a lock another session holds (a migration, a long admin action)
    # gives up after this long: a form post then answers 503 with Retry-After, as on SQLite's
    # busy timeout, instead of hanging until its worker is killed. 0 waits for ever.
    lock_timeout_ms = env.int("DATABASE_LOCK_TIMEOUT_MS", default=5000)
    if lock_timeout_ms:
        options = str(DATABASES["default"]["OPTIONS"].get("options", ""))
        DATABASES["default"]["OPTIONS"]["options"] = (
            f"{options} -c lock_timeout={lock_timeout_ms}".strip()
        )
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, broker ----------------------------------------------------------------------------
REDIS_URL: str | None = env.str("REDIS_URL", default=None)
# Seconds a cache call may wait on Redis; after a failure the intake throttles stay off for
# THROTTLE_CACHE_BREAKER_SECONDS in that process (a post matters more than a rate limit).
CACHE_SOCKET_TIMEOUT = env.float("CACHE_SOCKET_TIMEOUT", default=0.25)
THROTTLE_CACHE_BREAKER_SECONDS = env.float("THROTTLE_CACHE_BREAKER_SECONDS", default=10.0)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A cache answers in a millisecond or not at all: a hung Redis must not hold a
            # form post for long (the throttles then fail open, see apps/intake/throttles.py).
            "OPTIONS": {
                "socket_connect_timeout": CACHE_SOCKET_TIMEOUT,
                "socket_timeout": CACHE_SOCKET_TIMEOUT,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    # kombu's filesystem transport, writing each message atomically (see broker_fs).
    CELERY_BROKER_TRANSPORT = "asana_leads.broker_fs:Transport"
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "socket_connect_timeout": 1,
        "socket_timeout": 2,
        # A claim outlives its lease: Redis redelivers unacked messages after this.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600),
        # Priorities within a queue (lower first): drips go last on the followups queue, so
        # a confirmation never waits behind a drip backlog (kombu's default steps, pinned).
        "priority_steps": [0, 3, 6, 9],
        # A hand-off to a broker that is down must fail fast (the sweep delivers later),
        # never hold up the request that stored the submission.
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.1,
        "interval_max": 0.2,
    }
else:
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "control_folder": str(BROKER_DIR / "control"),
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        # The default 1 s hands over one message a second; 0.02 keeps up (DESIGN.md).
        "polling_interval": 0.02,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=120)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=100)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes every database connection around every task unless this is set,
# and then only every 2 x this many tasks; asana_leads/celery.py applies Django's own rule
# (CONN_MAX_AGE, broken connections dropped) around each task instead.
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "idempotency-keys-purge": {"task": "intake.idempotency_keys_purge", "schedule": 3600.0},
    "outbox-sweep": {
        "task": "followups.outbox_sweep",
        "schedule": env.float("OUTBOX_SWEEP_SECONDS", default=5.0),
        "options": {"queue": "alerts", "expires": 30},
    },
    "marketing-export-files-expire": {
        "task": "marketing.export_files_expire",
        "schedule": 3600.0,
        "options": {"queue": "exports", "expires": 1800},
    },
}

# --- Public API -------------------------------------------------------------------------------
API_THROTTLE = env.bool("API_THROTTLE", default=True)
REST_FRAMEWORK: dict[str, object] = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "asana_leads.exceptions.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_RATES": {
        "intake_ip": env.str("THROTTLE_INTAKE_IP", default="30/hour"),
        "intake_contact": env.str("THROTTLE_INTAKE_CONTACT", default="5/hour"),
        "payers": env.str("THROTTLE_PAYERS", default="300/hour"),
        "form_tokens": env.str("THROTTLE_FORM_TOKENS", default="300/hour"),
        "export_sync": env.str("THROTTLE_EXPORT_SYNC", default="600/hour"),
    },
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    # ASCII-escaped JSON: an error can never fail to encode (lone surrogates in input).
    "UNICODE_JSON": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "asana_leads website forms API",
    "DESCRIPTION": (
        "What the treatment center's website forms post to. Contract v1: see docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Served from our own static files: no CDN on a health site.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/v1/.*$"
CORS_ALLOW_HEADERS = [
    "accept",
    "content-type",
    "idempotency-key",
    "x-requested-with",
]
CORS_ALLOW_METHODS = ["GET", "OPTIONS", "POST"]
CORS_PREFLIGHT_MAX_AGE = 86400

# Bodies: a form without files is a few KB; a verification with two card photos is at most
# 2 x 10 MB plus its fields.
INTAKE_MAX_BODY_BYTES = env.int("INTAKE_MAX_BODY_BYTES", default=64 * 1024)
INTAKE_MAX_CARD_BYTES = env.int("INTAKE_MAX_CARD_BYTES", default=10 * 1024 * 1024)
INTAKE_MAX_MULTIPART_BYTES = 2 * INTAKE_MAX_CARD_BYTES + 256 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = INTAKE_MAX_MULTIPART_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = INTAKE_MAX_CARD_BYTES + 1
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=48)

# --- The website's form kit (apps.website, docs/website.md) ----------------------------------
# Where a plain HTML form (no JavaScript) lands after a successful post, e.g.
# https://www.example.org/thank-you/ (gets ?reference=...&form=...&crisis=1). Unset: the
# built-in page at /forms/thank-you/.
FORMS_THANK_YOU_URL = env.str("FORMS_THANK_YOU_URL", default="")
# The demo page /forms/demo/ is served when DEBUG is on or this is true.
FORMS_DEMO_ENABLED = env.bool("FORMS_DEMO_ENABLED", default=False)
# A form sent sooner than this after its render-time token was issued is stored as spam.
FORMS_MIN_FILL_SECONDS = env.float("FORMS_MIN_FILL_SECONDS", default=3.0)
# An older token is ignored (the post is judged as if it had none).
FORMS_TOKEN_MAX_AGE_HOURS = env.int("FORMS_TOKEN_MAX_AGE_HOURS", default=24)

# Payer matching: at or above this score a typed name resolves; below it waits for a human.
PAYER_MATCH_THRESHOLD = env.float("PAYER_MATCH_THRESHOLD", default=88.0)

# Minutes within which staff should first touch a new lead (issue 4 adds staffed hours).
LEAD_SLA_MINUTES = {
    "urgent": env.int("SLA_URGENT_MINUTES", default=5),
    "verification": env.int("SLA_VERIFICATION_MINUTES", default=15),
    "contact": env.int("SLA_CONTACT_MINUTES", default=30),
}

# --- The center -------------------------------------------------------------------------------
CENTER_NAME = env.str("CENTER_NAME", default="Asana Recovery")
CENTER_PHONE = env.str("CENTER_PHONE", default="(949) 438-4504")

# --- Follow-ups ---------------------------------------------------------------------------
# Public base URL of this backend, for links in emails (unsubscribe, book download, admin).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
ADMISSIONS_ALERT_EMAILS = env.list("ADMISSIONS_ALERT_EMAILS", default=["admissions@localhost"])
MANAGER_ALERT_EMAILS = env.list("MANAGER_ALERT_EMAILS", default=["manager@localhost"])
ON_CALL_SMS_NUMBER = env.str("ON_CALL_SMS_NUMBER", default="")
MANAGER_SMS_NUMBER = env.str("MANAGER_SMS_NUMBER", default="")
CHAT_WEBHOOK_URL = env.str("CHAT_WEBHOOK_URL", default="")
# Staffed hours in the center's time zone: "HH:MM-HH:MM" on the listed ISO weekdays (1 = Monday).
STAFFED_HOURS = env.str("STAFFED_HOURS", default="08:00-20:00")
STAFFED_WEEKDAYS = [int(day) for day in env.list("STAFFED_WEEKDAYS", default=list("1234567"))]
# Texts and automated calls only between these local hours of the recipient (TCPA).
SMS_ALLOWED_FROM_HOUR = env.int("SMS_ALLOWED_FROM_HOUR", default=8)
SMS_ALLOWED_UNTIL_HOUR = env.int("SMS_ALLOWED_UNTIL_HOUR", default=21)
SMS_BACKEND = env.str("SMS_BACKEND", default="apps.followups.sms.FileSmsBackend")
SMS_FILE_PATH = str(VAR_DIR / "sms")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=180)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=6)
OUTBOX_BACKOFF_BASE_SECONDS = env.int("OUTBOX_BACKOFF_BASE_SECONDS", default=30)
OUTBOX_BACKOFF_CAP_SECONDS = env.int("OUTBOX_BACKOFF_CAP_SECONDS", default=3600)
OUTBOX_SWEEP_SECONDS = env.float("OUTBOX_SWEEP_SECONDS", default=5.0)
# A handed-over row still pending after this long is handed over again once its queue holds no
# more messages (the broker lost it); while the queue still holds some, it is waiting its turn.
OUTBOX_REHAND_SECONDS = env.int("OUTBOX_REHAND_SECONDS", default=120)
# The longest one hand-over (the relay's, the sweep's or a staff retry's) waits on a broker that
# is down or hung: it then gives up without retrying, and the rows are handed over again later.
OUTBOX_HANDOFF_TIMEOUT_SECONDS = env.float("OUTBOX_HANDOFF_TIMEOUT_SECONDS", default=0.3)
# The relay (`manage.py outbox_relay`) looks for committed, due rows this often: the most a staff
# alert waits before it is handed to Celery (decision 37).
OUTBOX_RELAY_POLL_SECONDS = env.float("OUTBOX_RELAY_POLL_SECONDS", default=0.1)
BOOK_FILE = env.str("BOOK_FILE", default=str(BASE_DIR / "apps" / "books" / "assets" / "book.pdf"))
BOOK_LINK_MAX_AGE_HOURS = env.int("BOOK_LINK_MAX_AGE_HOURS", default=72)

# --- Files ------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
PHI_FILES_DIR = Path(env.str("PHI_FILES_DIR", default=str(VAR_DIR / "phi-files")))
STORAGES: dict[str, dict[str, object]] = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "media")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # Card images, already encrypted before they get here; never served by URL.
    "phi": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": str(PHI_FILES_DIR),
            "base_url": None,
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    },
}
# Marketing export files: private, reached only through a signed, expiring admin link.
EXPORTS_DIR = Path(env.str("EXPORTS_DIR", default=str(VAR_DIR / "exports")))
STORAGES["exports"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {
        "location": str(EXPORTS_DIR),
        "base_url": None,
        "file_permissions_mode": 0o600,
        "directory_permissions_mode": 0o700,
    },
}
EXPORT_LINK_MAX_AGE_HOURS = env.int("EXPORT_LINK_MAX_AGE_HOURS", default=24)
EXPORT_TASK_TIME_LIMIT = env.int("EXPORT_TASK_TIME_LIMIT", default=3600)
EXPORT_SYNC_PAGE_SIZE = env.int("EXPORT_SYNC_PAGE_SIZE", default=1000)
# A sync with no page asked for this long is abandoned by the hourly expiry task.
EXPORT_SYNC_IDLE_MINUTES = env.int("EXPORT_SYNC_IDLE_MINUTES", default=60)
# Incremental exports stop this far in the past: a consent time is stamped when an intake
# starts, and one still committing must land after the cutoff (far longer than any intake).
EXPORT_SETTLING_SECONDS = env.int("EXPORT_SETTLING_SECONDS", default=120)
ATTRIBUTION_MIN_GROUP = env.int("ATTRIBUTION_MIN_GROUP", default=5)
PHI_STORAGE_S3_BUCKET: str | None = env.str("PHI_STORAGE_S3_BUCKET", default=None)
if PHI_STORAGE_S3_BUCKET:
    STORAGES["phi"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": PHI_STORAGE_S3_BUCKET,
            "endpoint_url": env.str("PHI_STORAGE_S3_ENDPOINT_URL", default=None),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

# --- Email ------------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
# SMTP by URL (smtp+tls://user:password@host:587), or an ESP through django-anymail:
# EMAIL_BACKEND=anymail.backends.postmark.EmailBackend with ANYMAIL_POSTMARK_SERVER_TOKEN=...
EMAIL_URL: str | None = env.str("EMAIL_URL", default=None)
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in os.environ.items()
    if name.startswith("ANYMAIL_")
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="admissions@localhost")

# --- Security ---------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The admin's path: a non-default one keeps the login page out of drive-by scans.
ADMIN_URL = env.str("ADMIN_URL", default="admin/").strip("/") + "/"
# Staff sessions end after this much inactivity: the expiry slides with every request.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=15 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Off on the embedded default (plain http on 127.0.0.1); production behind TLS turns them on.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
# Health checks answer the load balancer over plain http inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz/", r"^readyz/"]

# Two factors (django-otp, TOTP): the name authenticator apps show for the account.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default=f"{CENTER_NAME} admin")

# Lockout after repeated failed logins (django-axes): per username + IP, password or code.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "staff/locked_out.html"
# The client IP as the intake API sees it (NUM_PROXIES trusted proxies, else the socket peer).
AXES_CLIENT_IP_CALLABLE = "apps.staff.lockout.client_ip"
# Only failures are recorded: logins are in the audit log already.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# --- Locale -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/Los_Angeles"  # staff see the center's time; storage is UTC
USE_I18N = True
USE_TZ = True

# --- Logging: never request bodies, never PHI -------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "asana_leads.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {
            "()": "asana_leads.middleware.UtcFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}
