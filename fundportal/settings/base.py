"""Settings shared by every environment. Secrets and addresses come from the environment."""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="insecure-local-development-key-not-for-production")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# Database --------------------------------------------------------------------------------
_DEFAULT_DATABASE_URL = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
_database_url = env("DATABASE_URL", default=_DEFAULT_DATABASE_URL)
try:
    _database = environ.Env.db_url_config(_database_url)
except (ImproperlyConfigured, ValueError, KeyError) as exc:
    raise ImproperlyConfigured(
        f"DATABASE_URL is not a database URL we understand ({exc}). Use sqlite:///path "
        "or postgres://user@host:5432/name."
    ) from None
if _database.get("ENGINE") not in ("django.db.backends.sqlite3", "django.db.backends.postgresql"):
    raise ImproperlyConfigured(
        "DATABASE_URL must point at PostgreSQL or SQLite: use postgres://user@host:5432/name "
        "or sqlite:///path/to/db.sqlite3."
    )
if not _database.get("NAME"):
    raise ImproperlyConfigured("DATABASE_URL does not name a database: add it after the host, like /fundportal.")
_database["ATOMIC_REQUESTS"] = False
_database["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
if _database["ENGINE"].endswith("postgresql"):
    _database.setdefault("OPTIONS", {})["connect_timeout"] = 5
DATABASES = {"default": _database}
USING_POSTGRES = _database["ENGINE"].endswith("postgresql")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Applications ----------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django.forms",
    "crispy_forms",
    "rules.apps.AutodiscoverRulesConfig",
    "django_filters",
    "axes",
    "csp",
    "django_celery_beat",
    "rest_framework",
    "drf_spectacular",
    # The lifecycle, in order: each app imports only from those above it.
    "governance",
    "applications",
    "assessment",
    "awards",
    "reporting",
    "fundportal",
]

AUTH_USER_MODEL = "governance.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every view needs sign-in unless it is marked public: a forgotten decorator denies.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fundportal.urls"
WSGI_APPLICATION = "fundportal.wsgi.application"

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
                "fundportal.context_processors.site",
            ],
            "builtins": ["governance.templatetags.portal"],
        },
    }
]
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
CRISPY_ALLOWED_TEMPLATE_PACKS = ["nhsuk"]
CRISPY_TEMPLATE_PACK = "nhsuk"

# Passwords and sign-in -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "home"

# Failed sign-ins are throttled per account and address: five failures lock for 15 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The sign-in form names the email field "username", as Django's AuthenticationForm does.
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Internationalisation: the NHS in England works in Europe/London and British English.
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, g:i a"
SHORT_DATE_FORMAT = "d/m/Y"
USE_THOUSAND_SEPARATOR = False

# Static files and uploads ----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploads and generated PDFs live outside the web root and are served only by views that
# check permission; MEDIA_URL is deliberately not routed.
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media-not-served/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 12_582_912

if env("STORAGE_BACKEND", default="local") == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env("AWS_S3_REGION_NAME", default=None),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    # Location and URL come from MEDIA_ROOT and MEDIA_URL (tests point MEDIA_ROOT elsewhere).
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Email -------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Fund Portal <no-reply@fundportal.example>")

# Cache and sessions ------------------------------------------------------------------------
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Celery: JSON only, late acknowledgement, time limits, database beat schedule ---------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="fundportal")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis hands an unacknowledged task to another worker after this many seconds: keep it longer
# than the longest task (the default suits report builds); tests use a short one.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The outbox (governance/outbox.py): a side effect the broker refused is offered again after
# OUTBOX_BACKOFF_SECONDS, doubling each time up to OUTBOX_BACKOFF_MAX_SECONDS; one handed over
# but never done after OUTBOX_REDISPATCH_AFTER_SECONDS (the broker lost it) is handed over again.
OUTBOX_BACKOFF_SECONDS = env.int("OUTBOX_BACKOFF_SECONDS", default=10)
OUTBOX_BACKOFF_MAX_SECONDS = env.int("OUTBOX_BACKOFF_MAX_SECONDS", default=600)
OUTBOX_REDISPATCH_AFTER_SECONDS = env.int("OUTBOX_REDISPATCH_AFTER_SECONDS", default=6 * 3600)
# A task whose temporary error (a mail server down) outlasts its retries waits again, until this
# long after it was recorded; then it is failed for good (the notification stays on its page).
OUTBOX_GIVE_UP_AFTER_SECONDS = env.int("OUTBOX_GIVE_UP_AFTER_SECONDS", default=3 * 24 * 3600)
CELERY_TIMEZONE = TIME_ZONE
# Periodic tasks, by task name. The database scheduler copies these into django_celery_beat.
CELERY_BEAT_SCHEDULE: dict = {
    # Calls open and close at their published times; the call pages also derive the phase
    # from the times, so a late beat never lets a bid in after closing.
    "governance-advance-calls": {"task": "governance.tasks.advance_calls", "schedule": 60.0},
    # Side effects (emails, offer letters, report builds) the broker refused are handed over again,
    # each with its own backoff, so they all run once it is back (governance/outbox.py).
    "governance-dispatch-outbox": {"task": "governance.tasks.dispatch_outbox", "schedule": 10.0},
    # Offers not accepted by their deadline lapse and their money returns to the pot (idempotent).
    "awards-lapse-overdue-offers": {"task": "awards.tasks.lapse_overdue_offers", "schedule": crontab(hour=0, minute=20)},
    # Impact reports: take over builds whose worker fell silent; rebuild reports marked quarterly
    # (the task runs daily and builds each such report once per NHS quarter).
    "impact-reports-requeue-stale": {"task": "reporting.tasks.requeue_stale_impact_reports", "schedule": 300.0},
    "impact-reports-quarterly": {"task": "reporting.tasks.build_scheduled_impact_reports",
                                 "schedule": crontab(minute=30, hour=6)},
    # Monitoring returns: schedules follow the awards, returns open when their period ends, and
    # reminders go once each (idempotent, so a missed or repeated run is harmless).
    "reporting-run-monitoring": {"task": "reporting.monitoring_tasks.run_monitoring", "schedule": crontab(minute=15)},
    # Assessors whose scores are due within 3 days (or overdue) are reminded once (idempotent).
    "assessment-send-reminders": {"task": "assessment.tasks.send_assessment_reminders", "schedule": crontab(hour=7, minute=30)},
}


# Security headers ---------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# REST API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Fund Portal open data API",
    "DESCRIPTION": "Read-only public data: calls, awards and published impact reports.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# The portal ----------------------------------------------------------------------------------
PORTAL_NAME = "Fund Portal"
# Prefix for 360Giving identifiers (360G-<prefix>-<reference>), registered with 360Giving.
GRANTNAV_PREFIX = env("GRANTNAV_PREFIX", default="fundportal")
OPEN_DATA_LICENCE = env(
    "OPEN_DATA_LICENCE",
    default="https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
)
OPEN_DATA_LICENCE_NAME = env("OPEN_DATA_LICENCE_NAME", default="Open Government Licence v3.0")
MAX_UPLOAD_BYTES = 10 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}


def redacted_database_url() -> str:
    parts = urlsplit(_database_url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{':' + str(parts.port) if parts.port else ''}{parts.path}"
