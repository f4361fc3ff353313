"""Plural's one settings module, configured from the environment.

With no variables at all Plural runs embedded: SQLite under var/, Celery
eager, a local-memory cache, e-mail written to var/mail and a generated
development secret. PLURAL_ENV=production switches on the production
defaults and refuses to start without the settings production needs.
"""

import json
import secrets
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from celery.schedules import crontab, schedule
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

PLURAL_ENV = env.str("PLURAL_ENV", default="development")
if PLURAL_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("PLURAL_ENV must be 'development' or 'production'.")
IS_PRODUCTION = PLURAL_ENV == "production"

VAR_DIR = Path(env.str("PLURAL_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _development_secret_key() -> str:
    # Kept in var/ so that sessions and signed links survive a restart.
    key_file = VAR_DIR / "dev_secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


if IS_PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be set to at least 50 random characters in production.")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production.")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="") or _development_secret_key()
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

DEBUG = env.bool("DEBUG", default=not IS_PRODUCTION)
SITE_NAME = "Plural"
# The address people reach the site at: links in e-mails are built on it.
# In production it defaults to the first allowed host over HTTPS.
PLURAL_BASE_URL = env.str(
    "PLURAL_BASE_URL", default=f"https://{ALLOWED_HOSTS[0]}" if IS_PRODUCTION else "http://127.0.0.1:8000"
)
# The domain of the Message-IDs Plural gives its e-mails.
PLURAL_MAIL_DOMAIN = env.str("PLURAL_MAIL_DOMAIN", default=ALLOWED_HOSTS[0] if IS_PRODUCTION else "plural.localhost")
SITE_ID = 1

OAUTH_PROVIDERS = ("google", "github", "gitlab", "microsoft")
OAUTH_PROVIDERS_CONFIGURED = [
    provider for provider in OAUTH_PROVIDERS if env.str(f"PLURAL_{provider.upper()}_CLIENT_ID", default="")
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_countries",
    "taggit",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.mfa",
    "allauth.usersessions",
    "allauth.socialaccount.providers.openid_connect",
    # Only the providers given a client id: an installed provider without one answers its
    # login address with a server error.
    *[f"allauth.socialaccount.providers.{provider}" for provider in OAUTH_PROVIDERS_CONFIGURED],
    # Plural as an OpenID Connect provider; its pages and tokens work only with a signing key (below).
    "allauth.idp.oidc",
    "marketplace",
    "accounts",
    "sellers",
    "catalog",
    "notifications",
    "orders",
    "messaging",
    "reviews",
    "social",
]
TAGGIT_CASE_INSENSITIVE = True

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so that static files (SVG icons) carry the policy too.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Refreshes each signed-in session's address, browser and last activity (the sessions page).
    "accounts.sessions.SessionActivityMiddleware",
]

ROOT_URLCONF = "marketplace.urls"
WSGI_APPLICATION = "marketplace.wsgi.application"

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
                "marketplace.context_processors.site",
                "notifications.context_processors.unread_notifications",
                "orders.context_processors.cart",
                "messaging.context_processors.unread_conversations",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'plural.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so concurrent
    # writers queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
IS_POSTGRESQL = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Redis: cache, broker -------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if IS_PRODUCTION and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL must be set in production.")


def redis_cache(location: str) -> dict:
    """The cache settings for Redis at `location` (tests use it to point at a dead port)."""
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": location,
        "KEY_PREFIX": "plural",
        "OPTIONS": {
            # add() fails open while Redis is down, so that allauth's rate limits
            # let logins through instead of refusing them all: see the class.
            "CLIENT_CLASS": "marketplace.cache.FailOpenClient",
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
            # A cache outage degrades pages to uncached reads, never a 500.
            "IGNORE_EXCEPTIONS": True,
        },
    }


if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL)}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Sessions live in the database so that losing Redis logs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Celery ---------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # An unacknowledged task comes back after this long when its worker died.
    "visibility_timeout": 300,
    "socket_timeout": 2,
    "socket_connect_timeout": 2,
    "max_retries": 1,
}
CELERY_TASK_QUEUES = [Queue(name) for name in ("default", "notifications", "imports", "recommendations")]
CELERY_QUEUE_NAMES = [queue.name for queue in CELERY_TASK_QUEUES]
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    # Telling a shop's followers of a new listing is not recommendations work (social.tasks).
    "social.tasks.fanout_listing_event": {"queue": "default"},
    "social.tasks.fanout_listing_events": {"queue": "default"},
    "social.tasks.sweep_listing_events": {"queue": "default"},
    "notifications.tasks.*": {"queue": "notifications"},
    "*.tasks.import_*": {"queue": "imports"},
    "social.tasks.*": {"queue": "recommendations"},
}
# Workers also record a heartbeat as soon as they start (marketplace.tasks).
WORKER_HEARTBEAT_INTERVAL = timedelta(seconds=30)
# Beat's state is local data: keep it under var/, not in the working directory.
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {
        "task": "marketplace.tasks.record_worker_heartbeat",
        "schedule": schedule(WORKER_HEARTBEAT_INTERVAL),
    },
    "notifications-sweep-outbox": {"task": "notifications.tasks.sweep_outbox", "schedule": timedelta(minutes=1)},
    "notifications-daily-digest": {"task": "notifications.tasks.send_digests", "schedule": crontab(hour=7, minute=0)},
    "orders-run-timers": {"task": "orders.tasks.run_order_timers", "schedule": timedelta(minutes=5)},
    "reviews-reveal-feedback": {"task": "reviews.tasks.reveal_due_feedback", "schedule": timedelta(minutes=15)},
    "orders-run-deal-timers": {"task": "orders.tasks.run_deal_timers", "schedule": timedelta(minutes=5)},
    "social-refresh-recommendations": {
        "task": "social.tasks.refresh_recommendations",
        "schedule": timedelta(minutes=1),
    },
    "social-refresh-trending": {"task": "social.tasks.refresh_trending", "schedule": timedelta(minutes=15)},
    "social-sweep-listing-events": {"task": "social.tasks.sweep_listing_events", "schedule": timedelta(minutes=1)},
    # The triggers keep the listing counts exact; this only catches writes made around them.
    "catalog-reconcile-counts": {"task": "catalog.tasks.reconcile_counts", "schedule": crontab(hour=4, minute=15)},
    "accounts-purge-expired-data": {
        "task": "accounts.tasks.purge_expired_data",
        "schedule": crontab(hour=3, minute=30),
    },
}

# --- Social -----------------------------------------------------------------
# No recommendation figure is shown before this many people are behind it, so none ever
# rests on one person's views or purchases (at least 2).
SOCIAL_RECOMMENDATIONS_MIN_SUPPORT = env.int("PLURAL_RECOMMENDATIONS_MIN_SUPPORT", default=3)
if SOCIAL_RECOMMENDATIONS_MIN_SUPPORT < 2:
    raise ImproperlyConfigured("PLURAL_RECOMMENDATIONS_MIN_SUPPORT must be at least 2.")

# --- Orders ---------------------------------------------------------------
# The operator's commission on each order's total (items and shipping), unless a shop has a
# rate of its own (set in the admin: "Shops' order terms"). Fixed on each order when placed.
ORDERS_COMMISSION_RATE = Decimal(env.str("PLURAL_COMMISSION_RATE", default="0.05"))
if not Decimal("0") <= ORDERS_COMMISSION_RATE <= Decimal("1"):
    raise ImproperlyConfigured("PLURAL_COMMISSION_RATE must be between 0 and 1, e.g. 0.05 for 5%.")
# The timers of the order lifecycle (orders.lifecycle.TIMERS), stated to both sides on each order.
# A new order not accepted within the shop's processing time is cancelled this much later:
ORDERS_CANCEL_UNACCEPTED_AFTER = timedelta(days=env.int("PLURAL_ORDERS_CANCEL_UNACCEPTED_DAYS", default=2))
# An accepted order paid directly to the shop (bank transfer, cash, cheque) must be paid within:
ORDERS_PAYMENT_PERIOD = timedelta(days=env.int("PLURAL_ORDERS_PAYMENT_DAYS", default=7))
# A shipped order nobody marked delivered counts as delivered after:
ORDERS_ASSUME_DELIVERED_AFTER = timedelta(days=env.int("PLURAL_ORDERS_ASSUME_DELIVERED_DAYS", default=21))
# A delivered order completes after this, or after the shop's return window if that is longer:
ORDERS_COMPLETE_AFTER_DELIVERY = timedelta(days=env.int("PLURAL_ORDERS_COMPLETE_DAYS", default=7))
# A shop has this long to decide on a return; undecided, it is accepted:
ORDERS_RETURN_DECISION_PERIOD = timedelta(days=env.int("PLURAL_ORDERS_RETURN_DECISION_DAYS", default=7))
# Reminders go out this long before each deadline:
ORDERS_REMINDER_BEFORE = timedelta(hours=env.int("PLURAL_ORDERS_REMINDER_HOURS", default=24))
# The return window of a shop that has not set its own, in days after delivery:
ORDERS_DEFAULT_RETURN_WINDOW_DAYS = 14
# Offers: a buyer's offer the shop accepted keeps the copy reserved for them this long.
ORDERS_OFFER_RESERVATION_PERIOD = timedelta(hours=env.int("PLURAL_ORDERS_OFFER_RESERVATION_HOURS", default=48))
# The longest a shop's private offer can stay open, in days.
ORDERS_PRIVATE_OFFER_MAX_DAYS = 30
# Problem cases: a shipped order not delivered after this counts as late, so the buyer may report it:
ORDERS_CASE_LATE_AFTER = timedelta(days=env.int("PLURAL_ORDERS_CASE_LATE_DAYS", default=14))
# The shop has this long to propose a fix before either side may escalate to the moderators:
ORDERS_CASE_ANSWER_PERIOD = timedelta(days=env.int("PLURAL_ORDERS_CASE_ANSWER_DAYS", default=3))
# A moderator's decision takes effect after this, unless one side appeals it first:
ORDERS_CASE_APPEAL_PERIOD = timedelta(days=env.int("PLURAL_ORDERS_CASE_APPEAL_DAYS", default=7))
ORDERS_PAYMENT_PROVIDERS = ["orders.payments.manual.ManualProvider"]

# --- Reviews and ratings ------------------------------------------------------
# A review or rating can be edited for this long after it was written (until the shop replies).
REVIEWS_EDIT_WINDOW = timedelta(days=env.int("PLURAL_REVIEWS_EDIT_DAYS", default=30))
# The buyer's rating of the shop and the shop's feedback on the buyer are written blind: each is
# revealed once both are written, or this long after delivery, when the window to write closes.
REVIEWS_FEEDBACK_WINDOW = timedelta(days=env.int("PLURAL_REVIEWS_FEEDBACK_DAYS", default=30))
# The damped (Bayesian) score that ranks shops: every shop starts with this many imaginary
# ratings of this mean, so one five-star rating cannot outrank five hundred at 4.9.
REVIEWS_SCORE_PRIOR_MEAN = Decimal(env.str("PLURAL_REVIEWS_SCORE_PRIOR_MEAN", default="3.5"))
REVIEWS_SCORE_PRIOR_WEIGHT = env.int("PLURAL_REVIEWS_SCORE_PRIOR_WEIGHT", default=10)
# A repeat buyer's ratings of one shop count towards its score at most once in this period.
REVIEWS_REPEAT_RATING_PERIOD = timedelta(days=7)
# Bursts: when this many different authors who are new (joined within REVIEWS_NEW_ACCOUNT_AGE)
# or who never reviewed another shop write about one shop within REVIEWS_BURST_WINDOW, what
# they wrote is held for a moderator instead of published.
REVIEWS_BURST_AUTHORS = env.int("PLURAL_REVIEWS_BURST_AUTHORS", default=5)
REVIEWS_BURST_WINDOW = timedelta(hours=env.int("PLURAL_REVIEWS_BURST_HOURS", default=24))
REVIEWS_NEW_ACCOUNT_AGE = timedelta(days=env.int("PLURAL_REVIEWS_NEW_ACCOUNT_DAYS", default=30))
# Rate limits per person per hour, counted from the rows themselves (no cache involved).
REVIEWS_WRITES_PER_HOUR = env.int("PLURAL_REVIEWS_WRITES_PER_HOUR", default=10)
REVIEWS_VOTES_PER_HOUR = env.int("PLURAL_REVIEWS_VOTES_PER_HOUR", default=60)
REVIEWS_FLAGS_PER_HOUR = env.int("PLURAL_REVIEWS_FLAGS_PER_HOUR", default=20)

# --- E-mail ---------------------------------------------------------------
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
elif IS_PRODUCTION:
    raise ImproperlyConfigured("EMAIL_URL must be set in production.")
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Plural <no-reply@plural.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Messaging ------------------------------------------------------------
# Message e-mails carry a Reply-To of reply+<signed token>@PLURAL_REPLY_DOMAIN; point that
# domain's MX at `manage.py mail_gateway`, which posts the replies into the conversations.
PLURAL_REPLY_DOMAIN = env.str("PLURAL_REPLY_DOMAIN", default="") or PLURAL_MAIL_DOMAIN
PLURAL_REPLY_MAX_AGE = timedelta(days=env.int("PLURAL_REPLY_MAX_AGE_DAYS", default=30))
PLURAL_MAIL_GATEWAY_HOST = env.str("PLURAL_MAIL_GATEWAY_HOST", default="127.0.0.1")
PLURAL_MAIL_GATEWAY_PORT = env.int("PLURAL_MAIL_GATEWAY_PORT", default=2525)
# Replies larger than this (quoted history and pictures included) are refused with 552.
PLURAL_MAIL_GATEWAY_MAX_BYTES = env.int("PLURAL_MAIL_GATEWAY_MAX_BYTES", default=25 * 1024 * 1024)
MESSAGING_DELETE_WINDOW = timedelta(minutes=env.int("PLURAL_MESSAGE_DELETE_MINUTES", default=15))
MESSAGING_MAX_ATTACHMENTS = 4
MESSAGING_SEND_RATE_PER_MINUTE = env.int("PLURAL_MESSAGE_RATE_PER_MINUTE", default=10)
MESSAGING_SEND_RATE_PER_HOUR = env.int("PLURAL_MESSAGE_RATE_PER_HOUR", default=100)
# The first-contact limit: accounts younger than this may open only so many conversations a day.
MESSAGING_NEW_ACCOUNT_AGE = timedelta(days=env.int("PLURAL_NEW_ACCOUNT_DAYS", default=7))
MESSAGING_NEW_ACCOUNT_CONVERSATIONS_PER_DAY = env.int("PLURAL_NEW_ACCOUNT_CONVERSATIONS_PER_DAY", default=3)

# --- Identity -------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Plural] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if IS_PRODUCTION else "http"
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
}
# Two-factor authentication: an authenticator app (TOTP), security keys and passkeys (WebAuthn),
# and recovery codes, for everyone; a shop may require it of its people (Shop.requires_mfa).
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME
# Browsers allow WebAuthn over plain HTTP only on localhost, as in `make run`.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not IS_PRODUCTION
# Last activity is refreshed every few minutes by accounts.sessions, not on every request.
USERSESSIONS_TRACK_ACTIVITY = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "optional"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_QUERY_EMAIL = True
SOCIALACCOUNT_LOGIN_ON_GET = False


def _social_providers() -> dict:
    """Build allauth's provider settings from PLURAL_OIDC_PROVIDERS and
    PLURAL_<PROVIDER>_CLIENT_ID / _SECRET pairs."""
    providers: dict = {}
    raw_oidc = env.str("PLURAL_OIDC_PROVIDERS", default="") or "[]"
    try:
        oidc_entries = json.loads(raw_oidc)
    except json.JSONDecodeError as error:
        raise ImproperlyConfigured(f"PLURAL_OIDC_PROVIDERS is not valid JSON: {error}") from error
    if not isinstance(oidc_entries, list):
        raise ImproperlyConfigured("PLURAL_OIDC_PROVIDERS must be a JSON list of objects.")
    oidc_apps = []
    for entry in oidc_entries:
        if not isinstance(entry, dict):
            raise ImproperlyConfigured("PLURAL_OIDC_PROVIDERS must be a JSON list of objects.")
        missing = {"id", "name", "server_url", "client_id"} - set(entry)
        if missing:
            raise ImproperlyConfigured(f"PLURAL_OIDC_PROVIDERS entry {entry.get('id', '?')!r} lacks {sorted(missing)}.")
        oidc_apps.append(
            {
                "provider_id": entry["id"],
                "name": entry["name"],
                "client_id": entry["client_id"],
                "secret": entry.get("secret", ""),
                "settings": {
                    "server_url": entry["server_url"],
                    "token_auth_method": entry.get("token_auth_method", "client_secret_post"),
                    "oauth_pkce_enabled": entry.get("pkce", True),
                    "scope": entry.get("scope", ["openid", "profile", "email"]),
                },
            }
        )
    if oidc_apps:
        providers["openid_connect"] = {"APPS": oidc_apps}
    for provider in OAUTH_PROVIDERS:
        client_id = env.str(f"PLURAL_{provider.upper()}_CLIENT_ID", default="")
        if client_id:
            providers[provider] = {
                "APPS": [
                    {
                        "client_id": client_id,
                        "secret": env.str(f"PLURAL_{provider.upper()}_SECRET", default=""),
                    }
                ]
            }
    return providers


SOCIALACCOUNT_PROVIDERS = _social_providers()

# --- REST API -------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "marketplace.schema.PluralAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so that a refused token answers 401 with a Bearer challenge.
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "accounts.authentication.OidcAccessTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "marketplace.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "marketplace.throttling.AnonymousRateThrottle",
        "marketplace.throttling.PersonRateThrottle",
        "marketplace.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("PLURAL_API_RATE_ANONYMOUS", default="120/minute"),
        "user": env.str("PLURAL_API_RATE_PERSON", default="600/minute"),
        "search": env.str("PLURAL_API_RATE_SEARCH", default="60/minute"),
    },
    # How many proxies in front of Plural set X-Forwarded-For; 0 trusts only REMOTE_ADDR
    # (a client could otherwise pick its own address and dodge the anonymous limit).
    "NUM_PROXIES": env.int("PLURAL_API_NUM_PROXIES", default=0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Plural API",
    "DESCRIPTION": (
        "The REST API of Plural, a marketplace of many small independent shops: everything a person can do "
        "in the pages.\n\n"
        "**Authentication**: the site's session (send the CSRF token on writes), or a personal API token made "
        "under Your account → API tokens, as `Authorization: Bearer <token>`. A read token may only use GET, "
        "HEAD and OPTIONS.\n\n"
        "**Errors**: a 400 is always field errors (`ValidationError`: each field, or `non_field_errors`, with "
        "its messages); any other error is an `Error`: `detail` for people and a stable `code`.\n\n"
        "**Paging**: lists answer `count`, `next`, `previous` and `results` and take `page`; feeds, activity, "
        "notifications, messages and search take a `cursor` instead (their `next` or `next_cursor`), which "
        "stays right while new items arrive.\n\n"
        "**Rate limits**: per person and per anonymous IP address, lower for search; past them a 429 says in "
        "`retry_after` and the Retry-After header how many seconds to wait.\n\n"
        "**Caching**: listings, works, categories and tags carry an ETag; send it back in If-None-Match and "
        "an unchanged answer is a 304 without a body."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Served from our own static files: no third-party script host.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The shape of every 400 (marketplace.schema adds it and `Error` to each operation).
    "APPEND_COMPONENTS": {
        "schemas": {
            "ValidationError": {
                "type": "object",
                "description": (
                    "Field errors: each key is a field of the request (or `non_field_errors`, or a query "
                    "parameter), each value the list of messages about it (an object for a nested field)."
                ),
                "additionalProperties": {"anyOf": [{"type": "array", "items": {}}, {"type": "object"}]},
            }
        }
    },
    # Several models have a "status": name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "ListingStatusEnum": "catalog.models.Listing.Status",
        "ReportStatusEnum": "messaging.models.Report.Status",
        "ReportReasonEnum": "messaging.models.Report.Reason",
        "ReturnReasonEnum": "orders.lifecycle.RETURN_REASON_CHOICES",
        "OrderStateEnum": "orders.lifecycle.State",
        "OrderActorEnum": "orders.lifecycle.Actor",
        "OfferKindEnum": "orders.lifecycle.OfferKind",
        "OfferStateEnum": "orders.lifecycle.OfferState",
        "CaseStateEnum": "orders.lifecycle.CaseState",
        "CaseReasonEnum": "orders.lifecycle.CASE_REASON_CHOICES",
        "RemedyEnum": "orders.lifecycle.Remedy",
        "CaseProposalStatusEnum": "orders.models.CaseProposal.Status",
        "NotificationKindEnum": "notifications.kinds.KIND_SLUGS",
        "ServiceStateEnum": [("ok", "ok"), ("degraded", "degraded"), ("down", "down")],
        "ReviewStatusEnum": "reviews.models.Status",
        "ModerationOutcomeEnum": "reviews.models.Outcome",
        "FlagReasonEnum": "reviews.models.FlagReason",
        "AudienceEnum": "social.models.Audience",
        "ActivityKindEnum": "social.models.ActivityKind",
        "ListVisibilityEnum": "social.models.ListVisibility",
        "WantVisibilityEnum": "catalog.models.Want.Visibility",
        "ApiTokenScopeEnum": "accounts.models.ApiToken.Scope",
        "ShopMemberRoleEnum": "sellers.models.ShopMember.Role",
        "RecommendationScopeEnum": "social.recommendations.Scope.CHOICES",
    },
}

# --- Internationalisation -------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Conversation pictures and shops' inventory files are not for everyone: they live outside
# MEDIA_ROOT, which the proxy serves to anyone, and only pages that check who asks hand them out.
PRIVATE_MEDIA_ROOT = Path(env.str("PLURAL_PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploads above this are refused before Pillow sees them.
MAX_IMAGE_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024

# --- Security -------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Scripts and styles come only from our own static files: no inline script, no event-handler
# attribute, so text that slips past escaping still cannot run (templates carry none).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
}
if IS_PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[f"https://{host}" for host in ALLOWED_HOSTS])

# Service-dependent tests fail instead of skipping when this is set (CI).
PLURAL_REQUIRE_SERVICES = env.bool("PLURAL_REQUIRE_SERVICES", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

# --- Privacy ------------------------------------------------------------------
# How long a data export can be downloaded after it was built.
PRIVACY_EXPORT_DOWNLOAD_PERIOD = timedelta(days=env.int("PLURAL_PRIVACY_EXPORT_DAYS", default=7))
# How long each kind of data is kept before accounts.tasks.purge_expired_data removes it.
PRIVACY_RETENTION = {
    "view_events": timedelta(days=env.int("PLURAL_RETENTION_VIEW_EVENTS_DAYS", default=90)),
    "expired_sessions": timedelta(days=env.int("PLURAL_RETENTION_EXPIRED_SESSIONS_DAYS", default=0)),
    "closed_conversations": timedelta(days=env.int("PLURAL_RETENTION_CLOSED_CONVERSATIONS_DAYS", default=730)),
    "expired_exports": timedelta(days=env.int("PLURAL_RETENTION_EXPIRED_EXPORTS_DAYS", default=0)),
    "read_notifications": timedelta(days=env.int("PLURAL_RETENTION_READ_NOTIFICATIONS_DAYS", default=180)),
}
# Where this site's exports say they come from (and imports name as the origin of reviews).
PRIVACY_SITE_ORIGIN = env.str("PLURAL_PRIVACY_SITE_ORIGIN", default=PLURAL_BASE_URL)

# Benchmarking (marketplace.bench): mounts the floor endpoints under /bench/. Never in production.
PLURAL_BENCH = env.bool("PLURAL_BENCH", default=False)
if PLURAL_BENCH and IS_PRODUCTION:
    raise ImproperlyConfigured("PLURAL_BENCH is for benchmarking a development setup, not for production.")

# --- Plural as an OpenID Connect identity provider (optional) -------------
# With a signing key (an RSA private key in PEM), Plural serves OpenID Connect under
# /identity/ (clients are registered in the admin) and its API accepts the access tokens.
IDP_OIDC_PRIVATE_KEY = env.str("PLURAL_OIDC_IDP_PRIVATE_KEY", default="").replace("\\n", "\n")
PLURAL_OIDC_IDP_ENABLED = bool(IDP_OIDC_PRIVATE_KEY)
