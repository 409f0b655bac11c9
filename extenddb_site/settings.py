"""Settings, read from the environment through django-environ.

DATABASE_URL picks the storage backend (postgres://… for production, a SQLite
file in the data directory by default); EXTENDDB_* configure the endpoint.
"""
import sys
from pathlib import Path

import environ

from extenddb_site.logs import logging_config
from storage.files import OWNER_ONLY_DIR, private_sqlite_database

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DATA_DIR = Path(env.str("EXTENDDB_DATA_DIR", default=str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(mode=OWNER_ONLY_DIR, parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once into the data directory."""
    if env.str("DJANGO_SECRET_KEY", default=""):
        return env.str("DJANGO_SECRET_KEY")
    path = DATA_DIR / "secret_key"
    if not path.exists():
        import secrets

        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["*"])

EXTENDDB_HOST = env.str("EXTENDDB_HOST", default="127.0.0.1")
EXTENDDB_PORT = env.int("EXTENDDB_PORT", default=8000)
EXTENDDB_REGION = env.str("EXTENDDB_REGION", default="us-east-1")
EXTENDDB_ACCOUNT_ID = env.str("EXTENDDB_ACCOUNT_ID", default="000000000000")
EXTENDDB_TLS_CERT = env.str("EXTENDDB_TLS_CERT", default="")
EXTENDDB_TLS_KEY = env.str("EXTENDDB_TLS_KEY", default="")
EXTENDDB_WORKERS = env.int("EXTENDDB_WORKERS", default=2)
# SQLite durability: FULL syncs every commit (nothing acknowledged is lost on power
# failure); NORMAL is faster and still safe against process crashes.
EXTENDDB_SQLITE_SYNCHRONOUS = env.str("EXTENDDB_SQLITE_SYNCHRONOUS", default="FULL")
if EXTENDDB_SQLITE_SYNCHRONOUS not in ("FULL", "NORMAL", "EXTRA"):
    raise ValueError("EXTENDDB_SQLITE_SYNCHRONOUS must be FULL, NORMAL or EXTRA")
# Key used to encrypt access-key secrets at rest (Fernet, urlsafe base64, 32 bytes).
# Defaults to a key file in the data directory, created on first use.
EXTENDDB_MASTER_KEY = env.str("EXTENDDB_MASTER_KEY", default="")
# Allowed clock skew for SigV4, as DynamoDB: 15 minutes ("... - 15 min." in its message).
EXTENDDB_SIGV4_SKEW_SECONDS = env.int("EXTENDDB_SIGV4_SKEW_SECONDS", default=900)
# TTL: seconds between sweeps for expired items (in the background process), and
# how many items one sweep reads per table (it resumes there next time), so a
# sweep of a big table stays short.
EXTENDDB_TTL_SWEEP_SECONDS = env.float("EXTENDDB_TTL_SWEEP_SECONDS", default=30.0)
EXTENDDB_TTL_SCAN_ITEMS = env.int("EXTENDDB_TTL_SCAN_ITEMS", default=20000)
# DynamoDB Streams: shard iterators expire 15 minutes after they are handed out.
EXTENDDB_STREAM_ITERATOR_SECONDS = env.float("EXTENDDB_STREAM_ITERATOR_SECONDS", default=900.0)
# ImportTable / ExportTableToPointInTime: the folder standing in for S3 (a bucket
# is a first-level folder of it); export data files are cut at this many bytes.
EXTENDDB_S3_ROOT = Path(env.str("EXTENDDB_S3_ROOT", default=str(DATA_DIR / "s3"))).resolve()
EXTENDDB_EXPORT_FILE_BYTES = env.int("EXTENDDB_EXPORT_FILE_BYTES", default=64 * 1024 * 1024)
# Point-in-time recovery: seconds between retention purges of item history, and the
# shortest INCREMENTAL_EXPORT window (DynamoDB's: 15 minutes).
EXTENDDB_PITR_PURGE_SECONDS = env.float("EXTENDDB_PITR_PURGE_SECONDS", default=3600.0)
EXTENDDB_INCREMENTAL_EXPORT_MIN_SECONDS = env.float("EXTENDDB_INCREMENTAL_EXPORT_MIN_SECONDS", default=900.0)

# daphne only replaces `runserver` (development, websockets); importing it loads
# Twisted (about 0.2 s in every process), so it is installed for that command only.
INSTALLED_APPS = ["daphne"] if sys.argv[1:2] == ["runserver"] else []
INSTALLED_APPS += [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "storage",
    "accounts",
    "wireapi",
    "console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "extenddb_site.urls"
ASGI_APPLICATION = "extenddb_site.asgi.application"

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

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'extenddb.sqlite3'}"),
}
# --- several servers (docs/operations.md, "Running several servers") ------------------
# PostgreSQL hot standbys for eventually consistent reads (ConsistentRead false):
# comma-separated postgres:// URLs; a standby further behind the primary than the lag
# bound is skipped (DynamoDB's eventual consistency is typically under a second).
EXTENDDB_READ_REPLICAS = [environ.Env.db_url_config(url) for url in env.list("EXTENDDB_READ_REPLICA_URLS", default=[])]
EXTENDDB_REPLICA_MAX_LAG_SECONDS = env.float("EXTENDDB_REPLICA_MAX_LAG_SECONDS", default=1.0)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock
    # up front so two writers never deadlock on a lock upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 30,
         "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"}
    )
    private_sqlite_database(DATABASES["default"]["NAME"])  # 0600 before SQLite creates it 0644

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"

# The admin is served on the HTTPS port only.
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- web admin security ----------------------------------------------------
# Login throttling and lockout (django-axes): after AXES_FAILURE_LIMIT failed
# sign-ins for one user name from one address, that pair is locked for the
# cool-off time (locking on the pair, not the address alone, keeps an attacker
# from locking every administrator out from one machine).
INSTALLED_APPS += ["axes"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
MIDDLEWARE += [
    "extenddb_site.security.SecurityHeadersMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as axes requires
]
AXES_FAILURE_LIMIT = env.int("EXTENDDB_ADMIN_LOGIN_FAILURES", default=5)
AXES_COOLOFF_TIME = env.float("EXTENDDB_ADMIN_LOCKOUT_HOURS", default=0.25)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "console/lockout.html"
# Sign-in for pages that need it (the console's; the model admin has its own).
LOGIN_URL = "console:login"
AXES_VERBOSE = False
# Sessions: 8 hours, same-site only, cookies never readable by scripts.
SESSION_COOKIE_AGE = env.int("EXTENDDB_ADMIN_SESSION_SECONDS", default=8 * 3600)
SESSION_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_HTTPONLY = True
# The server speaks HTTPS only, so browsers may be told to never use plain HTTP.
SECURE_HSTS_SECONDS = env.int("EXTENDDB_HSTS_SECONDS", default=365 * 24 * 3600)
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No redirect to HTTPS: the only plaintext listener is loopback-only for GUI tools,
# and it refuses the admin outright (extenddb_site.security).
SILENCED_SYSTEM_CHECKS = ["security.W008"]
# Sent on every admin page (extenddb_site.security); the admin needs no inline script or style.
EXTENDDB_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

# --- logs and metrics (extenddb_site.logs, extenddb_site.metrics; docs/operations.md) ---
# One line a record on standard output, as JSON objects or plain text; Django's,
# uvicorn's and Python's warnings go through the same formatter.
EXTENDDB_LOG_FORMAT = env.str("EXTENDDB_LOG_FORMAT", default="text").lower()
EXTENDDB_LOG_LEVEL = env.str("EXTENDDB_LOG_LEVEL", default="INFO").upper()
LOGGING = logging_config(EXTENDDB_LOG_FORMAT, EXTENDDB_LOG_LEVEL)
# A log line per request (INFO, logger extenddb.request): on by default with JSON
# logs (a collector reads them), off with text (the database access log records
# every request anyway).
EXTENDDB_REQUEST_LOG = env.bool("EXTENDDB_REQUEST_LOG", default=EXTENDDB_LOG_FORMAT == "json")
# /metrics answers addresses in these networks, and any address presenting
# `Authorization: Bearer <EXTENDDB_METRICS_TOKEN>` when a token is set. Others get 403:
# table names are not for the internet.
EXTENDDB_METRICS_TOKEN = env.str("EXTENDDB_METRICS_TOKEN", default="")
EXTENDDB_METRICS_ALLOWED_NETWORKS = env.list("EXTENDDB_METRICS_ALLOWED_NETWORKS",
                                             default=["127.0.0.0/8", "::1/128"])

# --- overload and slow clients (reliability) ----------------------------------
# Requests one worker handles at once; past it the worker answers 503
# ServiceUnavailableException at once (SDKs back off and retry) instead of queueing.
EXTENDDB_MAX_INFLIGHT = env.int("EXTENDDB_MAX_INFLIGHT", default=256)
# PROVISIONED tables throttle past their capacity (with DynamoDB's 300 s burst) and
# on-demand tables past their OnDemandThroughput maximums, as DynamoDB does
# (wireapi.throttle). False: every request is served, whatever the capacity.
EXTENDDB_ENFORCE_CAPACITY = env.bool("EXTENDDB_ENFORCE_CAPACITY", default=True)
# Connections one worker keeps open; past it uvicorn answers 503 (a backstop).
EXTENDDB_MAX_CONNECTIONS = env.int("EXTENDDB_MAX_CONNECTIONS", default=4096)
# A request's headers must arrive within this many seconds of its first byte (or
# of the connection opening), its body within this many seconds of the headers.
EXTENDDB_HEADER_TIMEOUT_SECONDS = env.float("EXTENDDB_HEADER_TIMEOUT_SECONDS", default=10.0)
EXTENDDB_BODY_TIMEOUT_SECONDS = env.float("EXTENDDB_BODY_TIMEOUT_SECONDS", default=60.0)
# How long SIGTERM waits for in-flight requests before closing connections.
EXTENDDB_GRACEFUL_SHUTDOWN_SECONDS = env.int("EXTENDDB_GRACEFUL_SHUTDOWN_SECONDS", default=30)

# --- data-plane access log (wireapi.audit) -------------------------------------
# One row per request in ddb_access_log, written in batches; rows older than the
# retention period are purged hourly by the background process (0 keeps them forever).
EXTENDDB_ACCESS_LOG = env.bool("EXTENDDB_ACCESS_LOG", default=True)
EXTENDDB_ACCESS_LOG_RETENTION_DAYS = env.int("EXTENDDB_ACCESS_LOG_RETENTION_DAYS", default=90)
