"""Settings shared by every environment. Environment-specific modules import * from here."""

from __future__ import annotations

from pathlib import Path

from csp.constants import NONE, SELF, UNSAFE_INLINE

from config.env import env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("YUNZHENG_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = False
ALLOWED_HOSTS: list[str] = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "ninja",
    "csp",
    "django_tasks",
    "django_tasks_db",
    # Our apps. `core` first: it imports no domain app.
    "yunzheng.core",
    "yunzheng.web",
    "yunzheng.accounts",
    "yunzheng.practitioners",
    "yunzheng.licensing",
    "yunzheng.exchange",
    "yunzheng.conformance",
    "yunzheng.supervision",
    "yunzheng.elicense",
    "yunzheng.alarms",
    "yunzheng.registries",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "yunzheng.core.middleware.RequestIdMiddleware",
    # Machine interfaces (core.middleware.machine_api views) stop here: no page middleware.
    "yunzheng.core.middleware.MachineApiMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "yunzheng.web.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "yunzheng.core.auth.StaffSessionMiddleware",
    "yunzheng.core.middleware.DomainErrorPageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# The exchange's upload interface and feed (bearer credentials, JSON answers): see MIDDLEWARE.
MACHINE_API_PATH_PREFIXES = ("/exchange/v1/",)

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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yunzheng.web.context_processors.statutory_calendar",
                "yunzheng.web.navigation.header",
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Chinese first; English through the language switch (see web.middleware).
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names, gzip + brotli copies, a year of caching; in DEBUG (`make run`) as well.
    "staticfiles": {"BACKEND": "yunzheng.core.staticfiles.HashedStaticFilesStorage"},
}

LOGIN_URL = "/accounts/login/"

# Background and periodic work (core.scheduling): tasks are rows in the database, run by
# `manage.py db_worker`; `manage.py run_scheduler` enqueues the periodic ones on time.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
STAFF_LOGIN_URL = "accounts:staff_login"  # where core.auth.staff_required sends staff

# Uploads: core.uploads enforces 10 MB per image; Django must accept bodies a little larger.
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# SMS: pluggable like Django's email backends (see core.sms).
SMS_BACKEND = "yunzheng.core.sms.ConsoleSmsBackend"
SMS_OUTBOX_PATH = VAR_DIR / "sms-outbox.jsonl"

# Statutory calendar (core.calendar_years): when staff confirm a year, these recompute every due
# date that was stored as provisional or unknown because that year's holidays were missing.
STATUTORY_CALENDAR_RECOMPUTERS = [
    "yunzheng.elicense.traffic_passes.traffic_pass_due_dates_recompute",
    "yunzheng.practitioners.services.case_deadlines_refresh",
    "yunzheng.practitioners.services.verification_due_dates_recompute",
    "yunzheng.licensing.services.stage_deadlines_refresh",
]

# Personal-data protection (core.crypto): SM4-GCM keys by id, and an HMAC-SM3 key for lookups.
FIELD_ENCRYPTION_KEYS: dict[str, str] = {}
FIELD_ENCRYPTION_ACTIVE_KEY_ID = ""
FIELD_HASH_KEY = ""

# Audit anchoring (core.audit_anchor): an SM2 key used for nothing else signs checkpoints of the
# audit chain head; the public key verifies them; checkpoints are also appended (JSON lines) to a
# file outside the database. See README "Audit checkpoints".
AUDIT_CHECKPOINT_PRIVATE_KEY = env_str("AUDIT_CHECKPOINT_PRIVATE_KEY", "")
AUDIT_CHECKPOINT_PUBLIC_KEY = env_str("AUDIT_CHECKPOINT_PUBLIC_KEY", "")
AUDIT_CHECKPOINT_EXPORT = env_str("AUDIT_CHECKPOINT_EXPORT", "")

# Content-Security-Policy on every response (django-csp; issue #14). Scripts only from our own
# static files: no inline <script>, no event-handler attributes, no eval. Styles allow inline
# because ECharts writes style attributes into its tooltips and a few pages (the exchange console,
# the calendar preview) carry a <style> block; style injection cannot run script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "media-src": [SELF, "blob:"],
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "mask_personal_data": {"()": "yunzheng.core.logging.PersonalDataMaskingFilter"},
        "request_id": {"()": "yunzheng.core.middleware.RequestIdLogFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id", "mask_personal_data"],
        },
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    # Django's own defaults attach handlers without the masking filter: a console copy of every
    # `django` line, mails to ADMINS and runserver's request lines with their query strings. Named
    # here with no handlers, those are removed and the records reach the root's masked handler.
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}

# Exchange log mode (docs/adr/0008-exchange-log-jetstream.md): comma-separated nats://host:port of
# a NATS JetStream cluster. Empty (the default, `make run`): the direct path writes the database.
EXCHANGE_LOG_SERVERS: list[str] = env_list("EXCHANGE_LOG_URL")
EXCHANGE_LOG_STREAM = env_str("EXCHANGE_LOG_STREAM", "YZX")
