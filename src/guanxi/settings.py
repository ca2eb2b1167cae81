"""Django settings, read only from the environment.

Development defaults make ``make run`` work with nothing configured. With ``GUANXI_ENV=production``
the secret key and allowed hosts are required and the process stops with a clear message without them.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from guanxi.env import ConfigError, env_bool, env_int, env_list, env_path, env_str

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent

GUANXI_ENV = env_str("GUANXI_ENV", "development")
if GUANXI_ENV not in {"development", "production", "test"}:
    raise ConfigError(f"GUANXI_ENV={GUANXI_ENV!r} must be development, production or test")
PRODUCTION = GUANXI_ENV == "production"

DATA_DIR = env_path("GUANXI_DATA_DIR", PROJECT_DIR / "var")
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    key = env_str("GUANXI_SECRET_KEY")
    if key:
        if PRODUCTION and len(key) < 40:
            raise ConfigError("GUANXI_SECRET_KEY must be at least 40 characters / 密钥至少 40 个字符")
        return key
    if PRODUCTION:
        raise ConfigError(
            "GUANXI_SECRET_KEY is required when GUANXI_ENV=production / 生产环境必须设置 GUANXI_SECRET_KEY"
        )
    # Development: a random key kept in the data directory, never in the repository.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("GUANXI_DEBUG", default=not PRODUCTION and GUANXI_ENV != "test")
ALLOWED_HOSTS = env_list(
    "GUANXI_ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ConfigError(
        "GUANXI_ALLOWED_HOSTS is required when GUANXI_ENV=production / 生产环境必须设置 GUANXI_ALLOWED_HOSTS"
    )
CSRF_TRUSTED_ORIGINS = env_list("GUANXI_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "guanxi.core",
    "guanxi.accounts",
    "guanxi.audit",
    "guanxi.customers",
    "guanxi.engagement",
    "guanxi.sales",
    "guanxi.search",
    "guanxi.relations",
    "guanxi.dataio",
    "guanxi.followup",
    "guanxi.value",
    "guanxi.service",
    "guanxi.pipeline",
    "guanxi.demo",
    "guanxi.bench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "guanxi.core.middleware.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "guanxi.core.middleware.SecurityHeadersMiddleware",
    "guanxi.core.middleware.GuanxiErrorMiddleware",
]

ROOT_URLCONF = "guanxi.urls"
WSGI_APPLICATION = "guanxi.wsgi.application"

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
                "django.template.context_processors.i18n",
                "guanxi.core.context_processors.guanxi",
            ],
        },
    },
]

# Django's form renderer with its own widget templates rendered in Python (guanxi.core.formrender).
FORM_RENDERER = "guanxi.core.formrender.FastRenderer"

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    try:
        _db = dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("GUANXI_DB_CONN_MAX_AGE", 60, minimum=0)
        )
    except ValueError as exc:
        raise ConfigError(f"DATABASE_URL is malformed: {exc} / DATABASE_URL 格式错误") from None
    if _db["ENGINE"] not in {"django.db.backends.postgresql", "django.db.backends.sqlite3"}:
        raise ConfigError("DATABASE_URL must be postgres:// or sqlite:// / 仅支持 PostgreSQL 或 SQLite")
    if _db["ENGINE"] == "django.db.backends.postgresql":
        _db.setdefault("TEST", {})["NAME"] = env_str("GUANXI_TEST_DB_NAME", "test_guanxi")
else:
    _db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DATA_DIR / "guanxi.sqlite3")}

if _db["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE: a read-then-write transaction waits for the lock instead of failing with
    # "database is locked"; WAL lets readers run beside the single writer.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
            " PRAGMA foreign_keys=ON; PRAGMA cache_size=-64000; PRAGMA mmap_size=268435456;"
        ),
    }
    # Persistent connections keep SQLite's page cache warm between requests (each gunicorn worker
    # holds one); Django never keeps a transaction open between requests, so WAL checkpoints run.
    _db["CONN_MAX_AGE"] = env_int("GUANXI_DB_CONN_MAX_AGE", 60, minimum=0)
_db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A shared cache: allauth's login rate limits must count across processes (LocMem is per process).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "guanxi_cache",
    }
}

TASKS = {
    "default": {
        "BACKEND": env_str("GUANXI_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "followup:today"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "guanxi.accounts.adapters.AccountAdapter"
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
# Failed-login limits: per IP and per username ("key"); the admin's login goes through allauth too.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": env_str("GUANXI_LOGIN_FAILED_LIMIT", "5/5m/key,20/5m/ip"),
    "signup": "5/h/ip",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Guanxi"

if GUANXI_ENV == "test" or env_bool("GUANXI_FAST_HASHER", default=False):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- I18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("GUANXI_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie; harmless either way
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SAMESITE = "Lax"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("GUANXI_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("GUANXI_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

EMAIL_HOST = env_str("GUANXI_SMTP_HOST", "localhost")
EMAIL_PORT = env_int("GUANXI_SMTP_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("GUANXI_SMTP_USER", "")
EMAIL_HOST_PASSWORD = env_str("GUANXI_SMTP_PASSWORD", "")
EMAIL_USE_TLS = env_bool("GUANXI_SMTP_STARTTLS", default=False)
EMAIL_USE_SSL = env_bool("GUANXI_SMTP_SSL", default=False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ConfigError("GUANXI_SMTP_STARTTLS and GUANXI_SMTP_SSL exclude each other / 两者只能选一")
EMAIL_TIMEOUT = env_int("GUANXI_SMTP_TIMEOUT", 20, minimum=1, maximum=600)
DEFAULT_FROM_EMAIL = env_str("GUANXI_FROM_EMAIL", "guanxi@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("GUANXI_LOG_LEVEL", "WARNING")},
}

# A customer profile not reviewed for this many days is flagged as stale (DOMAIN §1).
GUANXI_PROFILE_REVIEW_DAYS = env_int("GUANXI_PROFILE_REVIEW_DAYS", 180, minimum=1, maximum=3650)

# Page sizes and limits used by selectors and the API.
# The contact-cadence policy (guanxi.followup.cadence): a CadencePolicy subclass. The default reads
# the service policy of each customer's value class/tier (guanxi.value.policy).
GUANXI_CADENCE_POLICY = env_str("GUANXI_CADENCE_POLICY", "guanxi.value.policy.ServicePolicyCadence")
# How often customer value is re-evaluated from the periodic tick: month, quarter, week or off.
GUANXI_VALUE_PERIOD = env_str("GUANXI_VALUE_PERIOD", "month")
if GUANXI_VALUE_PERIOD not in {"month", "quarter", "week", "off"}:
    raise ConfigError(
        f"GUANXI_VALUE_PERIOD={GUANXI_VALUE_PERIOD!r} must be month, quarter, week or off / "
        "评估周期必须是 month、quarter、week 或 off"
    )
# Memory of the re-evaluation, in MB (guanxi.value.engine.run.run_memory). PostgreSQL: work_mem of
# its transaction (SET LOCAL), so its aggregates and window sorts over every customer stay in memory
# (at 1M customers the default 4 MB makes the order aggregate sort on disk). SQLite: the page cache
# of its connection for the run, so the snapshot's index pages stay in memory.
GUANXI_VALUE_WORK_MEM_MB = env_int("GUANXI_VALUE_WORK_MEM_MB", 256, minimum=4, maximum=16384)

# Complaint deadlines (guanxi.service.policy): a ServicePolicy subclass; issue 7 plugs in its value terms.
GUANXI_SERVICE_POLICY = env_str("GUANXI_SERVICE_POLICY", "guanxi.service.policy.ValueTermsServicePolicy")
# Where customers open survey links sent by e-mail (the public page /s/<token>/).
GUANXI_PUBLIC_URL = env_str("GUANXI_PUBLIC_URL", "http://localhost:8000")
# Over-promising warning: this many open promises due within this many days (DOMAIN §6).
GUANXI_OVERPROMISE_LIMIT = env_int("GUANXI_OVERPROMISE_LIMIT", 6, minimum=1, maximum=1000)
GUANXI_OVERPROMISE_DAYS = env_int("GUANXI_OVERPROMISE_DAYS", 7, minimum=1, maximum=90)

GUANXI_PAGE_SIZE = 50
GUANXI_MAX_PAGE_SIZE = 200

# --- Imports (guanxi.dataio): limits checked before a file is parsed -----------------------------
GUANXI_IMPORT_MAX_BYTES = env_int("GUANXI_IMPORT_MAX_BYTES", 100 * 1024 * 1024, minimum=1024)
GUANXI_IMPORT_MAX_ROWS = env_int("GUANXI_IMPORT_MAX_ROWS", 500_000, minimum=1)
# A preview nobody confirmed or cancelled expires after this many hours: its upload (personal data)
# and its prepared plan are deleted by the periodic tick.
GUANXI_IMPORT_PREVIEW_HOURS = env_int("GUANXI_IMPORT_PREVIEW_HOURS", 48, minimum=1, maximum=24 * 365)
