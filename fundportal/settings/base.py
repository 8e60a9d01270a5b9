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
# The portal's public address, for links in emails, offer letters and open data
# (governance/siteurl.py). Required with DEBUG off (a system check); in development, unset,
# links follow the address of the request being served, else SITE_URL_FALLBACK.
SITE_URL = env("SITE_URL", default="")
SITE_URL_FALLBACK = "http://127.0.0.1:8000"

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
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
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
    # Finds the person by their stripped, lower-case email (governance/signin.py).
    "governance.signin.EmailBackend",
    # NHS staff single sign-on (OpenID Connect); does nothing unless OIDC_* is configured.
    "governance.oidc.PortalOIDCBackend",
]

MIDDLEWARE = [
    # When the request arrived (or, behind a trusted proxy, reached the proxy): deadlines are
    # judged against it, not against when a busy worker got to it (governance/request_time.py).
    "governance.request_time.RequestReceivedMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Development without SITE_URL: links in emails and letters use this request's address.
    "governance.siteurl.SiteUrlMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Signed-in responses are never stored by a browser or proxy cache.
    "fundportal.middleware.NoStoreWhenSignedInMiddleware",
    # Every view needs sign-in unless it is marked public: a forgotten decorator denies.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # The second factor: staff (and anyone who opted in) reach only the second-factor pages and
    # sign-out until they have entered a code (or their single sign-on provider did MFA).
    "django_otp.middleware.OTPMiddleware",
    "governance.middleware.SecondFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle timeout and absolute lifetime of a signed-in session (it leaves a message on signing out).
    "fundportal.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    # Public pages, open data and the API for visitors: ETag/Last-Modified from the public
    # version, 304s, and Cache-Control for browsers and a CDN or reverse proxy (last, so the
    # view's own headers are known; NoStoreWhenSignedInMiddleware still wins for the signed-in).
    "fundportal.middleware.PublicCacheMiddleware",
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
# TemplatesSetting, with the commonest widgets written out in Python (same bytes, a fraction of the CPU).
FORM_RENDERER = "governance.form_renderer.FastWidgetRenderer"
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

# Failed sign-ins lock out in two tiers (governance/signin.py): an account, known by its stripped
# lower-case email, after five failures from anywhere; an address after forty failures for any
# accounts (higher, because a whole trust can share one address). Both for 15 minutes, on the
# portal's sign-in and on /admin/login/.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=40)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "governance.signin.TieredLockoutHandler"
AXES_USERNAME_CALLABLE = "governance.signin.axes_username"
AXES_CLIENT_IP_CALLABLE = "governance.signin.axes_client_address"
# The sign-in form names the email field "username", as Django's AuthenticationForm does.
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The number of reverse proxies in front of the portal that set X-Forwarded-For and
# X-Forwarded-Proto (docker-compose runs one). With 0 those headers are ignored: anyone can send them.
# The same trust covers X-Request-Start (when the proxy received the request; governance/request_time.py),
# believed only up to REQUEST_START_MAX_AGE seconds before Django received the request.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
REQUEST_START_MAX_AGE = env.int("REQUEST_START_MAX_AGE", default=300)

# The header menu of a signed-in person is worked out from their roles at most this often (seconds).
MENU_CACHE_SECONDS = env.int("MENU_CACHE_SECONDS", default=60)

# How long browsers (max-age) and shared caches (s-maxage: a CDN, the reverse proxy) may serve a
# visitor's copy of a public page, open data file or API answer without asking again; after that
# they revalidate with the ETag (a 304 costs one query). Never past the next opening or closing.
PUBLIC_CACHE_MAX_AGE = env.int("PUBLIC_CACHE_MAX_AGE", default=60)
PUBLIC_CACHE_S_MAXAGE = env.int("PUBLIC_CACHE_S_MAXAGE", default=60)

# Password reset: at most 3 emails an hour per account and 10 per address; every request gets
# the same answer whether or not it sent an email, or an account uses the address.
PASSWORD_RESET_LIMIT_PER_ACCOUNT = env.int("PASSWORD_RESET_LIMIT_PER_ACCOUNT", default=3)
PASSWORD_RESET_LIMIT_PER_ADDRESS = env.int("PASSWORD_RESET_LIMIT_PER_ADDRESS", default=10)
PASSWORD_RESET_WINDOW_SECONDS = 3600

# Sessions (governance/sessions.py): signed out after 30 minutes without a request for staff
# roles (governance.access.is_staff_role), 2 hours for everyone else, and 12 hours after signing
# in whatever happens; a warning with a "stay signed in" button comes 2 minutes before.
SESSION_IDLE_TIMEOUT_STAFF = env.int("SESSION_IDLE_TIMEOUT_STAFF", default=30 * 60)
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=2 * 60 * 60)
SESSION_ABSOLUTE_LIFETIME = env.int("SESSION_ABSOLUTE_LIFETIME", default=12 * 60 * 60)
SESSION_TIMEOUT_WARNING = env.int("SESSION_TIMEOUT_WARNING", default=2 * 60)

# The second factor (django-otp): authenticator-app codes (TOTP) and single-use recovery codes.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Fund Portal")
# Money, scores and decisions need a sign-in (password and code) this recent, in seconds.
REAUTHENTICATION_MAX_AGE = env.int("REAUTHENTICATION_MAX_AGE", default=15 * 60)
# The demo accounts' authenticator secret (base32, published in the README); production
# settings clear it, so seed_demo gives real deployments no known secret.
DEMO_TOTP_SECRET = env("DEMO_TOTP_SECRET", default="FUNDPORTALDEMOKEYFORTESTINGONLY2")

# NHS staff single sign-on: OpenID Connect (mozilla-django-oidc), for NHSmail's Microsoft Entra
# ID tenant or any other provider. Off unless the client and the provider's endpoints are set.
OIDC_ENTRA_TENANT_ID = env("OIDC_ENTRA_TENANT_ID", default="")
_entra = f"https://login.microsoftonline.com/{OIDC_ENTRA_TENANT_ID}" if OIDC_ENTRA_TENANT_ID else ""
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET", default="")
OIDC_OP_ISSUER = env("OIDC_OP_ISSUER", default=f"{_entra}/v2.0" if _entra else "")
OIDC_OP_AUTHORIZATION_ENDPOINT = env(
    "OIDC_OP_AUTHORIZATION_ENDPOINT", default=f"{_entra}/oauth2/v2.0/authorize" if _entra else "")
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT", default=f"{_entra}/oauth2/v2.0/token" if _entra else "")
OIDC_OP_USER_ENDPOINT = env(
    "OIDC_OP_USER_ENDPOINT", default="https://graph.microsoft.com/oidc/userinfo" if _entra else "")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", default=f"{_entra}/discovery/v2.0/keys" if _entra else "")
OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env("OIDC_RP_SCOPES", default="openid email profile")
# The claim saying the provider has verified the email address (Entra ID: the optional claim
# xms_edov); accounts are matched on verified email only.
OIDC_EMAIL_VERIFIED_CLAIM = env("OIDC_EMAIL_VERIFIED_CLAIM", default="email_verified")
OIDC_BUTTON_LABEL = env("OIDC_BUTTON_LABEL", default="Sign in with NHSmail")
OIDC_USE_NONCE = True
OIDC_USE_PKCE = True
OIDC_CREATE_USER = False
OIDC_STORE_ID_TOKEN = False
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
OIDC_REDIRECT_FIELD_NAME = "next"
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/"
OIDC_ENABLED = all([OIDC_RP_CLIENT_ID, OIDC_RP_CLIENT_SECRET, OIDC_OP_AUTHORIZATION_ENDPOINT,
                    OIDC_OP_TOKEN_ENDPOINT, OIDC_OP_USER_ENDPOINT, OIDC_OP_JWKS_ENDPOINT])

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
# GOV.UK Notify: when the API key is set, email goes through Notify (one template whose subject
# is ((subject)) and body ((body))), else through EMAIL_URL above (SMTP).
GOVUK_NOTIFY_API_KEY = env("GOVUK_NOTIFY_API_KEY", default="")
GOVUK_NOTIFY_TEMPLATE_ID = env("GOVUK_NOTIFY_TEMPLATE_ID", default="")
GOVUK_NOTIFY_BASE_URL = env("GOVUK_NOTIFY_BASE_URL", default="https://api.notifications.service.gov.uk")
# Public call alerts: a confirmation link lasts this long; an address or visitor may ask this
# many times an hour.
CALL_ALERT_CONFIRM_MAX_AGE = env.int("CALL_ALERT_CONFIRM_MAX_AGE", default=3 * 24 * 3600)
CALL_ALERT_REQUESTS_PER_HOUR = env.int("CALL_ALERT_REQUESTS_PER_HOUR", default=5)

# Cache and sessions ------------------------------------------------------------------------
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
# Sessions in the database; with a cache every process shares (Redis through CACHE_URL) read
# through it, so a signed-in page does not query the session table (writes go to the database
# too). Never through a per-process cache: another process would not see a sign-out.
SHARED_CACHE = not CACHES["default"]["BACKEND"].endswith(("LocMemCache", "DummyCache"))
SESSION_ENGINE = "django.contrib.sessions.backends." + ("cached_db" if SHARED_CACHE else "db")
# The cookie and the stored session outlive no session's absolute lifetime.
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_LIFETIME
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
    # The unfiltered open data files follow the register: one build per minute at most.
    "open-data-refresh": {"task": "reporting.register.tasks.refresh_open_data", "schedule": 60.0},
    # Offers not accepted by their deadline lapse and their money returns to the pot (idempotent).
    "awards-lapse-overdue-offers": {"task": "awards.tasks.lapse_overdue_offers", "schedule": crontab(hour=0, minute=20)},
    # Impact reports: take over builds whose worker fell silent; rebuild reports marked quarterly
    # (the task runs daily and builds each such report once per NHS quarter).
    "impact-reports-requeue-stale": {"task": "reporting.impact.tasks.requeue_stale_impact_reports", "schedule": 300.0},
    "impact-reports-quarterly": {"task": "reporting.impact.tasks.build_scheduled_impact_reports",
                                 "schedule": crontab(minute=30, hour=6)},
    # Monitoring returns: schedules follow the awards, returns open when their period ends, and
    # reminders go once each (idempotent, so a missed or repeated run is harmless).
    "reporting-run-monitoring": {"task": "reporting.monitoring.tasks.run_monitoring", "schedule": crontab(minute=15)},
    # Uploads still awaiting their virus scan (a lost task, clamd down for long) are scanned again.
    "applications-rescan-awaiting-attachments": {"task": "applications.tasks.rescan_awaiting_attachments",
                                                 "schedule": 600.0},
    "awards-rescan-awaiting-evidence": {"task": "awards.tasks.rescan_awaiting_evidence", "schedule": 600.0},
    # Assessors whose scores are due within 3 days (or overdue) are reminded once (idempotent).
    # People who chose a daily digest get one email listing the day's notifications (each once).
    "governance-send-digests": {"task": "governance.tasks.send_notification_digests", "schedule": crontab(hour=17, minute=0)},
    # Bidders whose bid is still a draft 14, 3 and 1 days before the call closes (each once).
    "applications-draft-bid-reminders": {"task": "applications.tasks.send_draft_bid_reminders",
                                         "schedule": crontab(hour=8, minute=0)},
    "assessment-send-reminders": {"task": "assessment.tasks.send_assessment_reminders", "schedule": crontab(hour=7, minute=30)},
    # Organisations from NHS ODS (ODS_SOURCE_URLS, ODS_API_URL): nothing to do unless configured.
    "governance-import-ods": {"task": "governance.tasks.import_ods", "schedule": crontab(hour=4, minute=10)},
    "assessment-invitations": {"task": "assessment.tasks.remind_and_expire_invitations", "schedule": crontab(minute=5)},
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
# seed_demo creates accounts with the password published in the README: production refuses it.
DEMO_DATA_ALLOWED = True
# Prefix for 360Giving identifiers (360G-<prefix>-<reference>), registered with 360Giving.
GRANTNAV_PREFIX = env("GRANTNAV_PREFIX", default="fundportal")
OPEN_DATA_LICENCE = env(
    "OPEN_DATA_LICENCE",
    default="https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
)
OPEN_DATA_LICENCE_NAME = env("OPEN_DATA_LICENCE_NAME", default="Open Government Licence v3.0")
# The 360Giving package schema, read at run time (a URL or a local path) and cached after the
# first read; the grant schema is read from the same folder. Tests point it at ../shared.
THREESIXTYGIVING_SCHEMA_URL = env(
    "THREESIXTYGIVING_SCHEMA_URL",
    default="https://raw.githubusercontent.com/ThreeSixtyGiving/standard/main/schema/360-giving-package-schema.json",
)
THREESIXTYGIVING_SCHEMA_CACHE_SECONDS = env.int("THREESIXTYGIVING_SCHEMA_CACHE_SECONDS", default=86400)
# NHS Organisation Data Service: CSV downloads the beat loads daily (each named like its ODS file,
# etr.csv, epraccur.csv ...), and the ORD API for refreshing the organisations the portal holds.
ODS_SOURCE_URLS = env.list("ODS_SOURCE_URLS", default=[])
ODS_API_URL = env("ODS_API_URL", default="")
ODS_API_TIMEOUT = env.int("ODS_API_TIMEOUT", default=30)
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Malware scanning: clamd's unix socket path or host:port. Unset, files are available at once.
CLAMD_ADDRESS = env("CLAMD_ADDRESS", default="")
CLAMD_TIMEOUT = env.int("CLAMD_TIMEOUT", default=120)
# A file still awaiting its scan this long after upload is sent to be scanned again by the beat.
UPLOAD_RESCAN_AFTER_SECONDS = env.int("UPLOAD_RESCAN_AFTER_SECONDS", default=900)

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
