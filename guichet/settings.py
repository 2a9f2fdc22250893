"""Settings, every one read from the environment with a safe default.

SQLite in the project folder unless DATABASE_URL says otherwise; PostgreSQL in production and CI.
"""

import importlib.util
import os
import secrets
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def local_secret(name: str) -> str:
    """A secret from the environment, or one generated once and kept in var/ (development, tests)."""
    if os.environ.get(name):
        return os.environ[name]
    path = BASE_DIR / "var" / name.lower()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Processes starting together (test workers; web, worker and clock) must end with one secret: the
        # file appears whole or not at all (a link), the first one made wins and the others read it.
        draft = path.with_name(f"{path.name}.{os.getpid()}")
        draft.write_text(secrets.token_urlsafe(48))
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


DEBUG = env_bool("DEBUG")
TESTING = env_bool("TESTING") or "pytest" in sys.modules
SECRET_KEY = local_secret("SECRET_KEY")
# Identity keys are an HMAC under their own secret, so that rotating SECRET_KEY (sessions) keeps the
# duplicate check working across the whole queue.
IDENTITY_HMAC_KEY = local_secret("IDENTITY_HMAC_KEY")
# Encrypts secrets kept in the database (staff TOTP secrets: guichet/encryption.py). Losing it means every
# staff member enrols their authenticator again; keep it with the other secrets, apart from the backups.
FIELD_ENCRYPTION_KEY = local_secret("FIELD_ENCRYPTION_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "guichet.accounts.apps.PlatformAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "guichet.catalog",
    "guichet.capacity",
    "guichet.waitlist",
    "guichet.allocation",
    "guichet.appointments",
    "guichet.reception",
    "guichet.evidence",
    "guichet.notifications",
    "guichet.public",
    "guichet.backoffice",
    "guichet.api",
    "guichet.accounts",
    "guichet.partners",
    "guichet.privacy",
    "guichet.dossiers",
    "guichet.residence",
    "guichet.spaces",
    "guichet.operations",
]

MIDDLEWARE = [
    "guichet.operations.request_id.RequestIdMiddleware",
    "guichet.operations.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the session middleware, which reads the session cookie at once (guichet/edge.py).
    "guichet.edge.HostileInputMiddleware",
    # One version of the catalogue per request, read at its first catalogue read (guichet/catalog/cached.py).
    "guichet.catalog.middleware.CatalogueSnapshotMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "guichet.languages.StaffLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "guichet.accounts.middleware.IdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: it calls the view itself, after every other middleware's process_view
    # (guichet/retry_middleware.py).
    "guichet.retry_middleware.RetryMiddleware",
]

ROOT_URLCONF = "guichet.urls"
WSGI_APPLICATION = "guichet.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "guichet" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "guichet.context_processors.skin",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serialises writers; wait for the lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# Behind a pooler in transaction mode (PgBouncer's `pool_mode = transaction`: docs/deployment.md), each
# transaction may run on another server connection, so nothing may outlive a transaction there.
DATABASE_POOLING = os.environ.get("DATABASE_POOLING", "")
if DATABASE_POOLING not in ("", "transaction"):
    raise ImproperlyConfigured("DATABASE_POOLING is empty (direct connections) or 'transaction'")


def _behind_pooler(database: dict) -> None:
    database.update(
        {
            # QuerySet.iterator() would DECLARE a cursor WITH HOLD on one server connection and FETCH from
            # another one, which has no such cursor.
            "DISABLE_SERVER_SIDE_CURSORS": True,
            # The client's connection to the pooler may be broken while the pooler stays up: check it
            # before reusing it (CONN_MAX_AGE keeps it between requests; the pooler keeps the servers').
            "CONN_HEALTH_CHECKS": True,
        }
    )
    # A statement prepared on one server connection is unknown to the next. Django 5.2 already turns
    # psycopg's preparation off; said here so that nobody turns it on behind the pooler.
    database.setdefault("OPTIONS", {})["prepare_threshold"] = None


if DATABASE_POOLING == "transaction" and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _behind_pooler(DATABASES["default"])
# A PostgreSQL hot standby of the primary, for the published figures only (guichet/replica.py); read the
# primary instead when it is this far behind or unreachable.
if os.environ.get("REPLICA_DATABASE_URL"):
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("REPLICA_DATABASE_URL needs a PostgreSQL primary (DATABASE_URL)")
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["REPLICA_DATABASE_URL"], conn_max_age=DATABASES["default"]["CONN_MAX_AGE"]
    )
    if DATABASES["replica"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("REPLICA_DATABASE_URL must name a PostgreSQL standby")
    # Tests read the test database through it, not a copy made for it.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    if DATABASE_POOLING == "transaction":
        _behind_pooler(DATABASES["replica"])
    DATABASE_ROUTERS = ["guichet.replica.ReplicaRouter"]
REPLICA_MAX_LAG_SECONDS = float(os.environ.get("REPLICA_MAX_LAG_SECONDS", "300"))
REPLICA_LAG_CHECK_SECONDS = float(os.environ.get("REPLICA_LAG_CHECK_SECONDS", "5"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": (
        {
            "BACKEND": "guichet.redis_cache.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            # Several installations (or test runs) may share one Redis.
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", ""),
        }
        if os.environ.get("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
    # Rendered public pages that say the same to everybody, kept by each process (public/kept_pages.py).
    "pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "guichet-pages",
        "OPTIONS": {"MAX_ENTRIES": 2000},
    },
}

TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        # "freed_slots": the freed-slot path's own queue and worker (guichet/allocation/tasks.py).
        "QUEUES": ["default", "freed_slots"],
    }
}

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guichet.accounts.admin_site.PlatformAdminPermissions",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [
    ("fr", "Français"),
    ("en", "English"),
    ("ar", "العربية"),
    ("es", "Español"),
    ("ru", "Русский"),
    ("uk", "Українська"),
    ("zh-hans", "简体中文"),
    ("tr", "Türkçe"),
]
LANGUAGES_BIDI = ["ar"]
# Staff pages (/<lang>/staff/…) exist in these languages only; the first is used under any other prefix
# (guichet/languages.py).
STAFF_LANGUAGES = ["fr", "en"]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Europe/Paris"

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "guichet" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
# Dossier files (the documents people give): outside the web root and outside MEDIA_ROOT, served only by
# guichet.dossiers after the reader's right is checked. Another backend can be named in STORAGES.
DOSSIER_FILES_ROOT = Path(os.environ.get("DOSSIER_FILES_ROOT", BASE_DIR / "var" / "dossier-files"))
STORAGES["dossiers"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": DOSSIER_FILES_ROOT, "base_url": None},
}
# Results of long staff jobs (a print run's PDF: names and addresses): outside the web root too, served only
# to the staff of the job's prefecture (guichet.backoffice.views.jobs), each download logged.
STAFF_JOB_FILES_ROOT = Path(os.environ.get("STAFF_JOB_FILES_ROOT", BASE_DIR / "var" / "staff-job-files"))
STORAGES["staff_jobs"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": STAFF_JOB_FILES_ROOT, "base_url": None},
}
# A running staff job whose progress has not moved for this long lost its worker: it is shown as failed and
# can be started again.
STAFF_JOB_STALE_SECONDS = int(os.environ.get("STAFF_JOB_STALE_SECONDS", str(15 * 60)))
# A finished job's result (a print run: names and addresses) is deleted this many days after the job ended
# (manage.py purge_staff_job_files, daily); the job's page then says so. The letters of a day can be printed
# again from the letters page.
STAFF_JOB_RESULT_RETENTION_DAYS = int(os.environ.get("STAFF_JOB_RESULT_RETENTION_DAYS", "7"))
# Limits of one document: bytes, pages of a PDF, pixels of an image (a phone photo is about 12 million).
DOSSIER_MAX_FILE_BYTES = int(os.environ.get("DOSSIER_MAX_FILE_BYTES", str(10 * 1024 * 1024)))
DOSSIER_MAX_PDF_PAGES = int(os.environ.get("DOSSIER_MAX_PDF_PAGES", "40"))
DOSSIER_MAX_IMAGE_PIXELS = int(os.environ.get("DOSSIER_MAX_IMAGE_PIXELS", str(40_000_000)))
# clamd's Unix socket: when set, every document is scanned before it is stored (and refused if clamd
# cannot answer).
CLAMD_SOCKET = os.environ.get("CLAMD_SOCKET", "")
CLAMD_TIMEOUT_SECONDS = float(os.environ.get("CLAMD_TIMEOUT_SECONDS", "20"))
# Départements whose residents file with the préfecture de police (CESEDA R.431-20: "à Paris, le préfet
# de police"). Comma-separated; a deployment where the préfecture de police also serves the petite
# couronne's foreigners would set "75,92,93,94".
PREFECTURE_DE_POLICE_DEPARTMENTS = tuple(
    code.strip()
    for code in os.environ.get("PREFECTURE_DE_POLICE_DEPARTMENTS", "75").split(",")
    if code.strip()
)

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# Where django.core.mail.backends.filebased.EmailBackend writes (bench/soak.py counts the messages there).
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Guichet <no-reply@guichet.localhost>")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_TIMEOUT = 10

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and SITE_URL.startswith("https"))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

if TESTING:
    # A password hash costs most of a second by design; the tests make hundreds of accounts.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A URL name, so that the login page opens in the reader's language (/fr/staff/login/, /ar/staff/login/…).
LOGIN_URL = "backoffice:login"
LOGIN_REDIRECT_URL = "backoffice:home"
# Staff and partner sessions end after this long without a request (the cookie itself lasts at most
# SESSION_COOKIE_AGE).
STAFF_IDLE_TIMEOUT_SECONDS = int(os.environ.get("STAFF_IDLE_TIMEOUT_SECONDS", str(30 * 60)))
# ProConnect, the State's OpenID Connect for agents (docs/backoffice.md): off unless the deployment gives
# the provider's endpoints and its client registration; then each prefecture turns it on for its staff
# (Prefecture.proconnect_enabled). mozilla-django-oidc reads the OIDC_* settings.
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("PROCONNECT_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("PROCONNECT_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("PROCONNECT_USERINFO_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("PROCONNECT_JWKS_ENDPOINT", "")
OIDC_RP_CLIENT_ID = os.environ.get("PROCONNECT_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("PROCONNECT_CLIENT_SECRET", "")
OIDC_RP_SIGN_ALGO = os.environ.get("PROCONNECT_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("PROCONNECT_SCOPES", "openid email given_name usual_name")
OIDC_AUTH_REQUEST_EXTRA_PARAMS = (
    {"acr_values": os.environ["PROCONNECT_ACR_VALUES"]} if os.environ.get("PROCONNECT_ACR_VALUES") else {}
)
OIDC_USE_PKCE = env_bool("PROCONNECT_USE_PKCE", True)
OIDC_CREATE_USER = False  # never: an agent is matched to an account a prefecture administrator made
OIDC_AUTHENTICATION_CALLBACK_URL = "proconnect_callback"
OIDC_TIMEOUT = 10
PROCONNECT_ENABLED = all(
    (OIDC_OP_AUTHORIZATION_ENDPOINT, OIDC_OP_TOKEN_ENDPOINT, OIDC_OP_USER_ENDPOINT, OIDC_OP_JWKS_ENDPOINT)
) and bool(OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET)
# The ID token's claims that say the agent passed a second factor at their provider; otherwise Guichet's own
# second factor follows.
PROCONNECT_MFA_AMR = {"mfa"}
PROCONNECT_MFA_ACR = {"eidas2", "eidas3"}
if PROCONNECT_ENABLED:
    AUTHENTICATION_BACKENDS.append("guichet.accounts.proconnect.ProConnectBackend")
# Login throttling, counted in the cache: an account is locked after this many failed passwords or codes
# within the window, for the lockout time; an address is locked after the larger count.
LOGIN_FAILURES_PER_ACCOUNT = int(os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", "5"))
LOGIN_FAILURES_PER_ADDRESS = int(os.environ.get("LOGIN_FAILURES_PER_ADDRESS", "30"))
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_SECONDS", str(15 * 60)))
# How long the log of staff and partner reads of applicants' data is kept (CNIL: six months to a year for
# access logs), then purged daily.
ACCESS_LOG_RETENTION_DAYS = int(os.environ.get("ACCESS_LOG_RETENTION_DAYS", "365"))

# Reception (docs/reception.md). How many minutes after the start of the appointment a person is still
# received; later, the check-in is refused and the appointment can be recorded as missed.
LATE_ARRIVAL_MINUTES = int(os.environ.get("LATE_ARRIVAL_MINUTES", "15"))
# "Your turn is coming" (SMS or email) to the person this many places from the front; 0 sends none.
TURN_NOTICE_AHEAD = int(os.environ.get("TURN_NOTICE_AHEAD", "0"))
# Reminder to the person, and the agents' list, this many days before an interim document expires.
INTERIM_EXPIRY_NOTICE_DAYS = int(os.environ.get("INTERIM_EXPIRY_NOTICE_DAYS", "15"))
# Retention per phase (docs/privacy.md, docs/dpia.md): an active request is kept; an ended one (served,
# withdrawn, closed) this many days after its last change of status; one with a court case until the case
# ends, then this many days. The daily purge (manage.py purge_personal_data) erases what is past them.
RETENTION_AFTER_END_DAYS = int(os.environ.get("RETENTION_AFTER_END_DAYS", "730"))
RETENTION_AFTER_COURT_CASE_DAYS = int(os.environ.get("RETENTION_AFTER_COURT_CASE_DAYS", "180"))
# How far back a request registered for a person (counter, phone, post) may be dated.
ASSISTED_INTAKE_MAX_BACKDATE_DAYS = int(os.environ.get("ASSISTED_INTAKE_MAX_BACKDATE_DAYS", "30"))
# Largest signed mandate form a partner may upload (PDF, JPEG or PNG).
MANDATE_FORM_MAX_BYTES = int(os.environ.get("MANDATE_FORM_MAX_BYTES", str(5 * 1024 * 1024)))

# --- Guichet ---
# Which skin renders the pages: "neutral" (default, no State marks) or "dsfr" (State operators only).
GUICHET_SKIN = os.environ.get("GUICHET_SKIN", "neutral")
if GUICHET_SKIN not in {"neutral", "dsfr"}:
    raise ValueError(f"GUICHET_SKIN must be 'neutral' or 'dsfr', not {GUICHET_SKIN!r}")
# The dsfr skin takes the State design system's files from django-dsfr: only its static files, which are
# always collected, so that switching the skin is a setting and a restart, never a collectstatic (the
# manifest of a collection made under the neutral skin used to lack them: every page answered 500).
STATICFILES_DIRS.append(Path(importlib.util.find_spec("dsfr").origin).parent / "static")
# Rate limits on the public pages, as "count/period" (s, m, h, d), counted in the cache (Redis in
# production). Filing: per client address and per identity; status look-ups: per address and per reference.
GUICHET_RATE_LIMITS = {
    "filing_address": os.environ.get("RATE_LIMIT_FILING_ADDRESS", "20/h"),
    "filing_identity": os.environ.get("RATE_LIMIT_FILING_IDENTITY", "5/h"),
    "lookup_address": os.environ.get("RATE_LIMIT_LOOKUP_ADDRESS", "30/h"),
    "lookup_reference": os.environ.get("RATE_LIMIT_LOOKUP_REFERENCE", "10/h"),
}
# How many reverse proxies in front of the application append to X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTED_PROXY_HOPS = int(os.environ.get("TRUSTED_PROXY_HOPS", "0"))
# Strands of each prefecture's audit chain (docs/concurrency.md): how many transactions of one prefecture
# may append to its audit log at once without waiting for each other: at least the concurrent database
# connections of the app servers and workers that write (serve: 3 workers x 4 threads, 2 task workers and
# the clock), more gains nothing; changing it later keeps every strand verifiable.
AUDIT_CHAIN_STRANDS = int(os.environ.get("AUDIT_CHAIN_STRANDS", "16"))
# The status page's place in the queue counts the requests due before the person's due date from a snapshot
# of the queue kept this long in the cache, and those due that day live (guichet/waitlist/position.py).
# The number is at most twice this old, and says so. 0: count every request ahead on each read (exact, slow).
QUEUE_POSITION_SNAPSHOT_SECONDS = int(os.environ.get("QUEUE_POSITION_SNAPSHOT_SECONDS", "60"))
if QUEUE_POSITION_SNAPSHOT_SECONDS < 0:
    raise ValueError("QUEUE_POSITION_SNAPSHOT_SECONDS must be 0 (no snapshot) or a number of seconds")
# How far ahead slots are generated from opening rules.
SLOT_HORIZON_WEEKS = int(os.environ.get("SLOT_HORIZON_WEEKS", "8"))
# Where the Ed25519 signing key lives; generated there on first run in development.
SIGNING_KEY_FILE = Path(os.environ.get("SIGNING_KEY_FILE", BASE_DIR / "var" / "signing-keys.json"))
SIGNING_KEY_PEM = os.environ.get("SIGNING_KEY_PEM", "")

# Logs: JSON lines with the request id (LOG_FORMAT=json, the default) or plain text; every handler removes
# private links and tokens (guichet/operations/redaction.py). gunicorn's logs use the same
# (guichet/operations/gunicorn_logging.py).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "guichet.operations.redaction.RedactingFilter"},
        "request_id": {"()": "guichet.operations.logs.RequestIdFilter"},
    },
    "formatters": {
        "json": {"()": "guichet.operations.logs.JsonFormatter"},
        "text": {"format": "%(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "text",
            "filters": ["request_id", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"guichet": {"level": os.environ.get("LOG_LEVEL", "INFO"), "propagate": True}},
}
# Prometheus metrics at /metrics, for a scraper that sends "Authorization: Bearer <METRICS_TOKEN>"; without a
# token the address answers 404. With several worker processes, PROMETHEUS_MULTIPROC_DIR (set by
# `manage.py serve`) lets each write its counters there and /metrics add them up.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# Where the secrets came from: a key generated into var/ on this host is fine for one process in development;
# several app servers must share the one given in the environment (guichet/operations/startup.py).
SECRETS_FROM_ENVIRONMENT = {
    name: bool(os.environ.get(name)) for name in ("SECRET_KEY", "IDENTITY_HMAC_KEY", "FIELD_ENCRYPTION_KEY")
}

# --- Notifications (outbox, SMS, letters) ---
# SMS gateway: "guichet.notifications.sms.ConsoleBackend" (development), "…FileBackend" (writes var/sms/),
# or "…HttpGatewayBackend" (POSTs JSON to SMS_GATEWAY_URL with SMS_GATEWAY_KEY in the X-Api-Key header).
SMS_BACKEND = os.environ.get("SMS_BACKEND", "guichet.notifications.sms.ConsoleBackend")
SMS_GATEWAY_URL = os.environ.get("SMS_GATEWAY_URL", "")
SMS_GATEWAY_KEY = os.environ.get("SMS_GATEWAY_KEY", "")
SMS_GATEWAY_TIMEOUT = float(os.environ.get("SMS_GATEWAY_TIMEOUT", "10"))
SMS_SENDER = os.environ.get("SMS_SENDER", "Guichet")
SMS_FILE_PATH = Path(os.environ.get("SMS_FILE_PATH", BASE_DIR / "var" / "sms"))
# After this many failed tries a message is marked failed for good (the last error is kept).
OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "8"))
# Queue the background sender as soon as a message is committed (the clock's job is the safety net).
OUTBOX_ENQUEUE_ON_COMMIT = env_bool("OUTBOX_ENQUEUE_ON_COMMIT", not TESTING)
