"""Settings shared by every profile, each read from the environment with a safe default."""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None


BOOLEAN_WORDS = {"true", "false", "1", "0", "yes", "no", "on", "off", "t", "f", "y", "n", ""}


def setting(name: str, cast, default):
    """Read one setting; a malformed value stops start-up with a line naming the setting."""
    try:
        if cast == env.bool and name in env.ENVIRON and env.ENVIRON[name].strip().lower() not in BOOLEAN_WORDS:
            raise ValueError(f"{env.ENVIRON[name]!r} is not true or false")
        return cast(name, default=default)
    except (ValueError, TypeError, environ.ImproperlyConfigured) as exc:
        raise ImproperlyConfigured(f"{name} is malformed: {exc}") from None


DEBUG = setting("DEBUG", env.bool, False)
SECRET_KEY = setting("SECRET_KEY", env.str, "dev-only-insecure-key-change-me-0123456789abcdefghijklmnop")
ALLOWED_HOSTS = setting("ALLOWED_HOSTS", env.list, ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = setting("CSRF_TRUSTED_ORIGINS", env.list, [])
CSRF_FAILURE_VIEW = "opscenter.core.error_views.csrf_failure"
SITE_URL = setting("SITE_URL", env.str, "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_fsm",
    "django_celery_beat",
    "django_htmx",
    "pgtrigger",
    "opscenter.core",
]
# One Django app per process; each brings `urls.py` (pages) and `api/urls.py`.
OPSCENTER_PROCESS_APPS: list[str] = ["incidents", "changes", "sla", "duty", "problems"]
INSTALLED_APPS += OPSCENTER_PROCESS_APPS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "opscenter.core.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: turns a sign-in refused for a lockout into the lockout page (opscenter.core.error_views).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "opscenter.urls"
WSGI_APPLICATION = "opscenter.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "opscenter.core.context_processors.navigation",
            ],
            # {{ moment|local_datetime }}: the one date-time format of the pages (opscenter.core.formatting).
            "builtins": ["opscenter.core.templatetags.formatting"],
        },
    },
    {
        # Fragments drawn many times a page (the rows of the long lists): Jinja2 renders them several times
        # faster than Django's engine. Pages themselves stay Django templates and include these by a tag.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "opscenter.core.jinja.environment", "autoescape": True},
    },
]

# --- Database: SQLite (WAL, IMMEDIATE transactions) by default; PostgreSQL through DATABASE_URL.
DATABASE_URL = setting("DATABASE_URL", env.str, f"sqlite:///{VAR_DIR / 'opscenter.sqlite3'}")
try:
    DATABASES = {"default": environ.Env.db_url_config(DATABASE_URL)}
except Exception as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is malformed: {exc}") from None
if not DATABASES["default"].get("ENGINE") or DATABASE_URL.split(":", 1)[0] not in environ.Env.DB_SCHEMES:
    raise ImproperlyConfigured("DATABASE_URL is malformed: unknown scheme (use postgres:// or sqlite:///)")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASES["default"]["NAME"] not in ("", ":memory:"):
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # Web, worker and beat write at once: take the write lock at BEGIN and wait for it.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
            "PRAGMA busy_timeout=20000;PRAGMA foreign_keys=ON;"
        ),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = setting("DATABASE_CONN_MAX_AGE", env.int, 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Django reads choice lists (every <select> of a form) through QuerySet.iterator(): on PostgreSQL a
    # server-side cursor costing three round trips (DECLARE, FETCH, CLOSE) for a few dozen rows. Nothing
    # here streams a result too large to hold; plain cursors are also what PgBouncer's transaction mode needs.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    # Parameters bound by the server, and a query run twice on a connection kept as a prepared statement:
    # PostgreSQL then skips planning, which cost more than running the lists' joined queries (1.5-2.5 ms
    # against 0.2-0.3 ms). Behind a pooler in transaction mode without prepared-statement support
    # (PgBouncer before 1.21), set DATABASE_PREPARED_STATEMENTS=false.
    if setting("DATABASE_PREPARED_STATEMENTS", env.bool, True):
        DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=2)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a sign-in locked out for its failures (django-axes), before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "opscenter.core.access.AccessBackend",  # ModelBackend, permissions cached (core/access.py)
]
# Seconds a user's roles, teams and permissions stay cached (0: read them on every request).
ACCESS_CACHE_SECONDS = setting("ACCESS_CACHE_SECONDS", env.int, 600)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule for the password: Django tells it of every password change, and it revokes the API tokens.
    {"NAME": "opscenter.core.tokens.RevokeApiTokensOnPasswordChange"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Sessions are read from the cache and written through to the database: a page finds its session without a
# query, and a session outlives a cache that is cleared or restarted.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = setting("SESSION_COOKIE_AGE", env.int, 60 * 60 * 12)

# The cache every process of the installation shares (a session ended by one web worker is gone for all): files
# under var/ by default, enough for the web workers of one machine; CACHE_URL=redis://host:6379/1 when the web
# runs on several machines. A process-local cache (locmemcache://) suits a single process only.
CACHES = {"default": setting("CACHE_URL", env.cache_url, f"filecache://{VAR_DIR / 'cache'}?max_entries=10000")}

# --- Sign-in lockout (django-axes; docs/security.md): the sign-in page, the admin's and the API's token endpoint
# refuse a username from an address once it has failed this many times, each failure within the cool-off of the
# one before and no success since; the refusal lasts the cool-off after the latest attempt (0: until a supervisor
# unlocks it in the admin).
AXES_FAILURE_LIMIT = setting("AXES_FAILURE_LIMIT", env.int, 5)
AXES_COOLOFF_MINUTES = setting("AXES_COOLOFF_MINUTES", env.int, 15)
if AXES_FAILURE_LIMIT < 1:
    raise ImproperlyConfigured("AXES_FAILURE_LIMIT is malformed: at least 1")
if AXES_COOLOFF_MINUTES < 0:
    raise ImproperlyConfigured("AXES_COOLOFF_MINUTES is malformed: 0 or more")
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES) if AXES_COOLOFF_MINUTES else None
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "opscenter.core.error_views.sign_in_locked_out"
AXES_CLIENT_IP_CALLABLE = "opscenter.core.lockout.client_address"
# Behind reverse proxies (the TLS proxy of production) the client's address is the one the outermost of these
# proxies saw, read from X-Forwarded-For; 0: the connection's own address (no proxy).
TRUSTED_PROXY_COUNT = setting("TRUSTED_PROXY_COUNT", env.int, 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT is malformed: 0 or more")
# The admin shows the failures by username and address (Failed sign-ins, where a supervisor unlocks) and each one
# (Sign-in failures, kept after an unlock); successful sign-ins are not recorded there (last_login says the latest).
AXES_ENABLE_ADMIN = False  # axes' own admin: the kernel's replaces it (opscenter/core/admin.py)
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# No start-up banner; each failure is a WARNING line of "axes" (its username and address masked), each lockout and
# unlock a line of "opscenter.security" (LOGGING below).
AXES_VERBOSE = False

# --- Language and time: stored in UTC, shown in the center's zone.
LANGUAGE_CODE = setting("LANGUAGE_CODE", env.str, "zh-hant")
LANGUAGES = [("en", _("English")), ("zh-hant", _("Traditional Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The admin's dates and times read as the pages' (2026-12-06 16:30), not "Dec. 6, 2026, 4:30 p.m." or "2026年12月6日".
FORMAT_MODULE_PATH = ["opscenter.core.formats"]
TIME_ZONE = setting("TIME_ZONE", env.str, "Asia/Shanghai")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE is malformed: unknown time zone {TIME_ZONE!r}") from None
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(setting("STATIC_ROOT", env.str, str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(setting("MEDIA_ROOT", env.str, str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Attachments on tickets: size-limited and type-checked.
ATTACHMENT_MAX_BYTES = setting("ATTACHMENT_MAX_BYTES", env.int, 10 * 1024 * 1024)
ATTACHMENT_EXTENSIONS = setting(
    "ATTACHMENT_EXTENSIONS",
    env.list,
    ["txt", "log", "csv", "pdf", "png", "jpg", "jpeg", "gif", "docx", "xlsx", "pptx", "zip", "json"],
)

# --- Incidents: lower priorities must be assigned within these minutes of classification;
# P1/P2 notify the team and the supervisors at once. Leadership is notified of major incidents.
INCIDENT_ASSIGN_WITHIN_MINUTES = {
    "P1": setting("INCIDENT_ASSIGN_P1_MINUTES", env.int, 5),
    "P2": setting("INCIDENT_ASSIGN_P2_MINUTES", env.int, 15),
    "P3": setting("INCIDENT_ASSIGN_P3_MINUTES", env.int, 60),
    "P4": setting("INCIDENT_ASSIGN_P4_MINUTES", env.int, 240),
}
INCIDENT_LEADERSHIP_GROUP = setting("INCIDENT_LEADERSHIP_GROUP", env.str, "leadership")

# --- Changes: a normal change planned with less lead time than this is one risk level higher.
CHANGE_MIN_LEAD_HOURS = setting("CHANGE_MIN_LEAD_HOURS", env.int, 72)

# --- Email and outbound webhooks.
EMAIL_BACKEND = setting("EMAIL_BACKEND", env.str, "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = setting("EMAIL_HOST", env.str, "localhost")
EMAIL_PORT = setting("EMAIL_PORT", env.int, 25)
EMAIL_HOST_USER = setting("EMAIL_HOST_USER", env.str, "")
EMAIL_HOST_PASSWORD = setting("EMAIL_HOST_PASSWORD", env.str, "")
EMAIL_USE_TLS = setting("EMAIL_USE_TLS", env.bool, False)
EMAIL_FILE_PATH = setting("EMAIL_FILE_PATH", env.str, str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = setting("DEFAULT_FROM_EMAIL", env.str, "opscenter@localhost")
WEBHOOK_TIMEOUT_SECONDS = setting("WEBHOOK_TIMEOUT_SECONDS", env.float, 5.0)
# Webhooks go to public addresses only: a loopback, private, link-local (cloud metadata) or other non-public
# address is refused when an endpoint is saved and again when a delivery is sent, unless one of these networks
# holds it (comma-separated, e.g. "10.20.0.0/16,fd00:20::/64"; see docs/webhooks.md).
WEBHOOK_ALLOWED_NETWORKS = setting("WEBHOOK_ALLOWED_NETWORKS", env.list, [])
try:
    WEBHOOK_ALLOWED_NETWORKS = [str(ipaddress.ip_network(net.strip(), strict=False))
                                for net in WEBHOOK_ALLOWED_NETWORKS if net.strip()]
except ValueError as exc:
    raise ImproperlyConfigured(f"WEBHOOK_ALLOWED_NETWORKS is malformed: {exc}") from None
OUTBOX_MAX_ATTEMPTS = setting("OUTBOX_MAX_ATTEMPTS", env.int, 8)
OUTBOX_CLAIM_TIMEOUT = timedelta(minutes=setting("OUTBOX_CLAIM_TIMEOUT_MINUTES", env.int, 10))

# --- Celery: the embedded default is kombu's filesystem transport under var/.
CELERY_BROKER_URL = setting("CELERY_BROKER_URL", env.str, "filesystem://localhost/")
BROKER_DIR = Path(setting("BROKER_DIR", env.str, str(VAR_DIR / "broker")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The transport keeps its messages in the folders below and has no host; kombu warns at every connection
    # of a URL without one ("No hostname was supplied"), so the URL names the local machine.
    if CELERY_BROKER_URL.rstrip("/") == "filesystem:":
        CELERY_BROKER_URL = "filesystem://localhost/"
        if os.environ.get("CELERY_BROKER_URL"):  # Celery reads the environment before its settings
            os.environ["CELERY_BROKER_URL"] = CELERY_BROKER_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    for folder in ("queue", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
elif not CELERY_BROKER_URL.startswith(("redis://", "rediss://", "amqp://", "memory://")):
    raise ImproperlyConfigured("CELERY_BROKER_URL is malformed: use redis://, amqp:// or filesystem://")
CELERY_TASK_DEFAULT_QUEUE = setting("CELERY_TASK_DEFAULT_QUEUE", env.str, "opscenter")
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request must not hang when the broker is down: the outbox sweep delivers later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "sweep-outbox": {"task": "opscenter.core.tasks.sweep_outbox", "schedule": crontab(minute="*")},
    "sweep-incident-assignment": {
        "task": "incidents.tasks.sweep_incident_assignment", "schedule": crontab(minute="*")},
    "sweep-urgent-paging": {"task": "incidents.tasks.sweep_urgent_paging", "schedule": crontab(minute="*")},
    "sweep-sla-thresholds": {"task": "sla.tasks.sweep_sla", "schedule": crontab(minute="*")},
    # Last month's services below their availability target, recorded to be explained (daily: idempotent).
    "record-availability-breaches": {
        "task": "sla.tasks.record_availability_breaches", "schedule": crontab(minute=17, hour=0)},
    "send-satisfaction-surveys": {"task": "sla.surveys.tasks.send_surveys", "schedule": crontab(minute="*")},
    # Shift swaps still undecided when their earliest shift starts expire (idempotent: a second run finds none).
    "expire-shift-swaps": {"task": "duty.tasks.expire_shift_swaps", "schedule": crontab(minute="*")},
    # Shifts not checked in by the duty policy's limit: marked absent, the supervisors and the backup told once.
    "sweep-duty-absences": {"task": "duty.tasks.sweep_absences", "schedule": crontab(minute="*")},
    # Reminders before shifts at the duty policy's leads, once each (a late run sends what it missed).
    "send-shift-reminders": {"task": "duty.tasks.send_shift_reminders", "schedule": crontab(minute="*")},
    # Problems: recurring incidents proposed as candidates (idempotent by fingerprint), a recurrence during an
    # observation window sending the problem back to solving, owners of overdue actions told once per due date.
    "propose-problem-candidates": {
        "task": "problems.tasks.propose_problem_candidates", "schedule": crontab(minute="*/10")},
    "sweep-problem-recurrence": {"task": "problems.tasks.sweep_problem_recurrence", "schedule": crontab(minute="*")},
    "notify-overdue-problem-actions": {
        "task": "problems.tasks.notify_overdue_problem_actions", "schedule": crontab(minute="*/15")},
    # Next year's ticket-number sequences, made long before New Year (daily: a missed run changes nothing).
    "prepare-ticket-sequences": {
        "task": "opscenter.core.tasks.prepare_ticket_sequences", "schedule": crontab(minute=7, hour=3)},
}

# --- API
# API tokens (django-rest-knox): stored hashed, valid for this many hours, revoked by their owner or by a change
# of the owner's password (docs/security.md).
API_TOKEN_TTL_HOURS = setting("API_TOKEN_TTL_HOURS", env.int, 24 * 30)
if API_TOKEN_TTL_HOURS < 1:
    raise ImproperlyConfigured("API_TOKEN_TTL_HOURS is malformed: tokens expire, after at least one hour")
REST_KNOX = {"TOKEN_TTL": timedelta(hours=API_TOKEN_TTL_HOURS), "AUTH_HEADER_PREFIX": "Token"}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "opscenter.core.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "opscenter.core.filters.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "opscenter.core.api.pagination.StandardPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "opscenter.core.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OpsCenter API",
    "DESCRIPTION": "IT operations management: incidents, problems, changes, releases, duty, inspections, SLA.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ProblemStateEnum": "problems.choices.State",
        "ProblemSourceEnum": "problems.choices.Source",
        "ProblemActionStateEnum": "problems.choices.ActionState",
        "ProblemCandidateStateEnum": "problems.choices.CandidateState",
        "KnownErrorStateEnum": "problems.choices.KnownErrorState",
        "LevelEnum": "incidents.choices.Level",
        "IncidentStateEnum": "incidents.choices.State",
        "ChangeStateEnum": "changes.choices.State",
        "ChangeTemplateStateEnum": "changes.choices.TemplateState",
        "RiskLevelEnum": "changes.choices.RiskLevel",
        "ClockKindEnum": "sla.choices.ClockKind",
        "OutageKindEnum": "sla.choices.OutageKind",
        "CalendarExceptionKindEnum": "sla.choices.ExceptionKind",
        "QuestionKindEnum": "sla.choices.QuestionKind",
        "RosterStateEnum": "duty.choices.RosterState",
        "DutyLogKindEnum": "duty.choices.LogKind",
        "HandoverStateEnum": "duty.choices.HandoverState",
        "SwapKindEnum": "duty.choices.SwapKind",
        "SwapStateEnum": "duty.choices.SwapState",
    },
}

# One line per event on the console. Django's own "django" logger (which prints to the console too when DEBUG is
# on) passes its records to the root handler here only, so nothing is printed twice; a refused or missing page
# (403, 404, a CSRF failure) is a line without a traceback, and a server error keeps its traceback.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"},
    },
    "filters": {"client_errors_without_traceback": {"()": "opscenter.core.log_filters.ClientErrorsWithoutTraceback"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "server": {"class": "logging.StreamHandler", "formatter": "server"},
    },
    "root": {"handlers": ["console"], "level": setting("LOG_LEVEL", env.str, "INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},  # runserver's access lines
        "django.request": {"filters": ["client_errors_without_traceback"]},
        "django.security.csrf": {"filters": ["client_errors_without_traceback"]},
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # its failures and lockouts, not its bookkeeping at every sign-in
    },
}
