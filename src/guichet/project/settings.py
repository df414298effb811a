"""Django settings, entirely from environment variables (see environment.VARIABLES and the README).

GUICHET_ENV chooses the safety net: in production (the default) unsafe settings stop the start-up
with a message that lists every problem; development is the demo; test is the test suite.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

from guichet.project import environment as env

ENVIRONMENT = env.environment()
PRODUCTION = ENVIRONMENT == "production"
DEBUG = ENVIRONMENT == "development"

BASE_DIR = Path(__file__).resolve().parents[3]
SOURCE_DIR = Path(__file__).resolve().parents[1]

SECRET_KEY = env.get("SECRET_KEY") or ("insecure-development-key-" + "x" * 40 if not PRODUCTION else "")
BASE_URL = env.get("BASE_URL").rstrip("/")
EMAIL_URL = env.get("EMAIL_URL")
EMAIL_FROM = env.get("EMAIL_FROM")
SMS_URL = env.get("SMS_URL")
POSTAL_URL = env.get("POSTAL_URL")
REDIS_URL = env.get("REDIS_URL")
POLICY_DIR = Path(env.get("POLICY_DIR"))
_DATABASE_URL = env.get("DATABASE_URL")
if _DATABASE_URL == "sqlite:///var/guichet.sqlite3":
    # The test suite uses an in-memory database: only create the data folder when it will be used.
    _data = env.data_dir() if ENVIRONMENT != "test" else Path(env.get("DATA_DIR"))
    _DATABASE_URL = f"sqlite:///{_data.resolve() / 'guichet.sqlite3'}"

# Every problem at once, bad numbers and URLs as well as unsafe values, before anything uses them.
_problems = env.problems(production=PRODUCTION, database_url=_DATABASE_URL)
if PRODUCTION:
    _problems += env.production_problems(
        secret_key=SECRET_KEY, base_url=BASE_URL, email_url=EMAIL_URL, sms_url=SMS_URL,
        postal_url=POSTAL_URL, database_url=_DATABASE_URL,
    )
# The ID tokens' signing key: checked with the rest. Outside production, where a missing key is made and kept
# under DATA_DIR, only once the other settings are known to be good (bad settings change nothing).
from guichet.oidc import signing_key as _signing_key  # noqa: E402

_OIDC_KEY = ""
if PRODUCTION or not _problems:
    try:
        # Tests keep their generated key out of the working tree.
        _OIDC_KEY = _signing_key.load(production=PRODUCTION, data_dir=env.data_dir() if ENVIRONMENT != "test"
                                      else Path(__import__("tempfile").gettempdir()) / "guichet-test")
    except _signing_key.KeyProblem as _problem:
        _problems.append(env.translated(_problem.message, _problem.values))
if _problems:
    raise env.ConfigurationError(_problems)

_base_host = urlsplit(BASE_URL).hostname or "localhost"
ALLOWED_HOSTS = [_base_host] + [h.strip() for h in env.get("ALLOWED_HOSTS").split(",") if h.strip()]
if not PRODUCTION:
    ALLOWED_HOSTS += ["127.0.0.1", "localhost", "testserver", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "guichet.core",
    "guichet.organisations",
    "guichet.registry",
    "guichet.identities",
    "guichet.audit",
    "guichet.challenges",
    "guichet.channels",
    "guichet.security",
    "guichet.journeys",
    "guichet.web",
    "guichet.backoffice",
    "guichet.oidc",
    "guichet.project",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "guichet.web.headers.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "guichet.web.sessions.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "guichet.project.urls"
WSGI_APPLICATION = "guichet.project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csrf",
                "guichet.web.headers.csp_nonce",
            ],
        },
    }
]

DATABASES = {"default": dj_database_url.parse(_DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the in-process delivery worker and the web server share the file.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests use a file too, never Django's shared in-memory database: that one is a single connection
    # shared by every thread of the live server, so a page's concurrent requests would interleave their
    # transactions on it ("cannot open savepoint"). A file gives each thread its own, as in production.
    DATABASES["default"]["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"guichet-test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL:
    # Timeouts: a Redis that stops answering fails requests in seconds instead of holding every worker.
    CACHES = {"default": {"BACKEND": "guichet.project.redis_cache.SharedClientRedisCache", "LOCATION": REDIS_URL,
                          "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "identities.Account"
AUTHENTICATION_BACKENDS = ["guichet.identities.backend.AccountBackend"]
PASSWORD_HASHERS = ["guichet.identities.passwords.Argon2idHasher"]
ARGON2_TIME_COST = env.get_int("PASSWORD_ARGON2_TIME_COST")
ARGON2_MEMORY_KIB = env.get_int("PASSWORD_ARGON2_MEMORY_KIB")
ARGON2_PARALLELISM = env.get_int("PASSWORD_ARGON2_PARALLELISM")

SESSION_ENGINE = "guichet.project.redis_sessions" if REDIS_URL else "django.contrib.sessions.backends.db"
SESSION_COOKIE_NAME = "guichet_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_IDLE_SECONDS = env.get_int("SESSION_IDLE_MINUTES") * 60
SESSION_MAX_SECONDS = env.get_int("SESSION_MAX_HOURS") * 3600
SESSION_COOKIE_AGE = SESSION_MAX_SECONDS
CSRF_COOKIE_NAME = "guichet_csrf"
CSRF_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = [BASE_URL]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_HSTS_SECONDS = 31536000
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = False  # the reverse proxy redirects; see the deployment guide
TRUSTED_PROXY_COUNT = env.get_int("TRUSTED_PROXY_COUNT")
CAPTCHA_DIFFICULTY = env.get_int("CAPTCHA_DIFFICULTY")
METRICS_ALLOWED_IPS = {ip.strip() for ip in env.get("METRICS_ALLOWED_IPS").split(",") if ip.strip()}
OUTBOX_LEASE_SECONDS = env.get_int("OUTBOX_LEASE_SECONDS")

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [SOURCE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "guichet_language"
USE_I18N = True
TIME_ZONE = "Europe/Paris"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.get("DATA_DIR")) / "static"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "guichet.core.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": env.get("LOG_FORMAT")}},
    "root": {"handlers": ["console"], "level": "INFO" if not ENVIRONMENT == "test" else "WARNING"},
    # fpdf2 subsets fonts with fontTools, which logs a hundred lines per letter at INFO.
    "loggers": {"fontTools": {"level": "WARNING"}},
}

# Messages delivered (or given up on) keep their body and PDF only in the demo and the tests, so that the
# mailbox page can show them; in production the body (which may hold a one-time code) is erased.
KEEP_DELIVERED_MESSAGE_BODIES = not PRODUCTION

# --- OIDC provider ---
# Each organisation is an OpenID Connect issuer at BASE_URL/o/<slug> (guichet.oidc), on
# django-oauth-toolkit. One RSA key signs every organisation's ID tokens; see docs/oidc.md.
# The signing key (_OIDC_KEY) is loaded and checked with the other settings, at the top.
INSTALLED_APPS.insert(INSTALLED_APPS.index("guichet.oidc"), "oauth2_provider")
# Named explicitly because guichet.oidc.Client points to it (a swappable model needs the setting).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _OIDC_KEY,
    "OAUTH2_VALIDATOR_CLASS": "guichet.oidc.provider.validator.OrganisationValidator",
    "SCOPES": {
        "openid": "Sign you in",
        "profile": "Your name and date of birth",
        "email": "Your email address",
        "member": "Your member number",
    },
    "DEFAULT_SCOPES": ["openid"],
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    # Authorization code with PKCE S256 only: no implicit or password grant, no "plain" challenge.
    "PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    # Access tokens only in the Authorization header (or a form body), never in an address, which logs and
    # Referer headers keep (RFC 9700 §4.3.2).
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    # RFC 9207's `iss` in authorization responses: Guichet adds it itself, per organisation (oidc/provider/
    # authorize.py), since the toolkit's would name a single issuer; so its gate stays off (serve's
    # DECIDED_WARNINGS).
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
    "ID_TOKEN_EXPIRE_SECONDS": 600,
    # An application's access lasts no longer than the member's own session may: an unused refresh token
    # dies this long after its access token, and the validator refuses every refresh token of a family
    # SESSION_MAX_SECONDS after the sign-in that started it (guichet.oidc.models.Authentication).
    "REFRESH_TOKEN_EXPIRE_SECONDS": SESSION_MAX_SECONDS,
    # Rotation (the default): each refresh token works once. Presenting a rotated one again revokes its
    # whole family (RFC 9700 4.14.2): the server cannot tell the thief from the application.
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if PRODUCTION else ["http", "https"],
}
