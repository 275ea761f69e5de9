"""Settings for BookShare. Every knob comes from the environment (or `.env`).

With nothing set, the site runs on SQLite and a filesystem Celery transport under
`var/`, and emails are printed by the worker. See `.env.example` and the README.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A `.env` file next to manage.py is read if present; real environment variables win.
if (BASE_DIR / ".env").is_file() and not env.bool("IGNORE_DOTENV", default=False):
    env.read_env(str(BASE_DIR / ".env"), overwrite=False)

# Runtime state of the zero-setup default: SQLite file, broker folder, file cache, media.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)

_INSECURE_DEV_KEY = "django-insecure-dev-only-key-never-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set and DEBUG is off. Set SECRET_KEY in the environment or in "
            ".env (for example: python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DEBUG=true for local development. `make run` writes a .env for you."
        )
    SECRET_KEY = _INSECURE_DEV_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_NAME = env.str("SITE_NAME", default="BookShare")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "bookshare.core.admin_apps.BookShareAdminConfig",  # django.contrib.admin, our admin site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "bookshare.eventbus",
    "bookshare.core",
    "accounts",
    "books",
    "lists",
    "reactions",
    "exchanges",
    "notifications",
    "discovery",
    "catalogue",
    "axes",
    "csp",
]

MIDDLEWARE = [
    "bookshare.eventbus.middleware.CorrelationIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "bookshare.core.middleware.RequestSanityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "bookshare.urls"
WSGI_APPLICATION = "bookshare.wsgi.application"
ASGI_APPLICATION = "bookshare.asgi.application"

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
                "bookshare.core.context_processors.site",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'bookshare.sqlite3'}")
}
DATABASE_IS_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
if DATABASE_IS_SQLITE:
    # WAL lets web and workers read while one writes; IMMEDIATE avoids lock-upgrade
    # deadlocks between processes; the timeout waits out a writer instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, sessions are in the DB) -----------------------------------------
# Several processes (web, workers) share rate-limit counters only through a shared
# cache: Redis in production; without CACHE_URL, a file cache under var/.
CACHES = {"default": env.cache_url("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}
# A Redis that is down must cost a request little: short socket timeouts, and callers
# go through bookshare/core/cache.py, which degrades to the database or per-process
# counters and skips the cache for CACHE_FAILURE_COOLDOWN seconds after a failure.
CACHE_SOCKET_TIMEOUT = env.float("CACHE_SOCKET_TIMEOUT", default=0.25)
CACHE_FAILURE_COOLDOWN = env.float("CACHE_FAILURE_COOLDOWN", default=5.0)
if "redis" in CACHES["default"]["BACKEND"].lower():
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {
            "socket_timeout": CACHE_SOCKET_TIMEOUT,
            "socket_connect_timeout": CACHE_SOCKET_TIMEOUT,
            "retry_on_timeout": False,
        }
    )

# --- Auth -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LockoutBackend",  # django-axes: per-account and per-address lockout, first
    "accounts.backends.EmailOrUsernameBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- I18N -------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Email ------------------------------------------------------------------------------
# Emails are sent only by Celery workers; with no EMAIL_URL the worker prints them.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="BookShare <no-reply@bookshare.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security ---------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading is a hard-to-undo promise about a domain: opt in with
        # SECURE_HSTS_PRELOAD=true once the domain is ready, not by default.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Celery -----------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
BROKER_IS_FILESYSTEM = CELERY_BROKER_URL.startswith("filesystem://")
# How long a publishing request may wait on the broker before giving up (the relay
# sends the delivery later). Applies to connecting and to each socket operation.
EVENTBUS_BROKER_TIMEOUT = env.float("EVENTBUS_BROKER_TIMEOUT", default=1.0)
if BROKER_IS_FILESYSTEM:
    for _folder in ("queue", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": env.float("CELERY_POLLING_INTERVAL", default=0.2),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Unacknowledged messages come back after this long (late acks). Retry
        # countdowns are kept below it.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        "socket_timeout": EVENTBUS_BROKER_TIMEOUT,
        "socket_connect_timeout": EVENTBUS_BROKER_TIMEOUT,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_WORKER_PREFETCH_MULTIPLIER", default=1)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ALWAYS_EAGER = False
# Celery's Django fixup closes the database connection around every task unless this is
# set, so each task would open a new one (~6 ms on PostgreSQL, more than a delivery's
# whole work). Connections are instead kept and checked the Django way around each task
# (CONN_MAX_AGE, CONN_HEALTH_CHECKS): see bookshare/celery.py.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1_000_000)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = TIME_ZONE

# --- Queues and worker groups ------------------------------------------------------------
# Declared once, here. The event bus, `python manage.py worker <group>` (used by
# `make run`, docker-compose.yml, the test workers and the benchmarks) and the staff
# pages all read this. Queues are listed most urgent first; each names its soft and
# hard time limits in seconds (a task past the soft limit gets SoftTimeLimitExceeded,
# past the hard one its process is replaced).
EVENTBUS_QUEUES = {
    # A person is waiting for a sign-up code or a reset link. `urgent`: its deliveries
    # are sent from the committing thread itself, never behind the background sender's
    # bulk sends (EVENTBUS_SEND_IN_BACKGROUND).
    "email": {"soft_time_limit": 45, "time_limit": 60, "urgent": True},
    # Notification emails and digests: never in front of (or behind) a sign-up code.
    "mail": {"soft_time_limit": 120, "time_limit": 150},
    # In-site notifications, wishlist alerts.
    "notifications": {"soft_time_limit": 60, "time_limit": 90},
    "search": {"soft_time_limit": 60, "time_limit": 90},
    # Similar posts, recommendations, trending, rating aggregates.
    "suggestions": {"soft_time_limit": 60, "time_limit": 90},
    # Book details and covers from outside catalogues (HTTP).
    "catalogue": {"soft_time_limit": 30, "time_limit": 45},
    # Price quotes from outside providers (HTTP).
    "prices": {"soft_time_limit": 30, "time_limit": 45},
    # Library imports: long jobs, in bounded batches.
    "imports": {"soft_time_limit": 600, "time_limit": 660},
    "default": {"soft_time_limit": 120, "time_limit": 150},
    # Relay, cleanup and other housekeeping; every worker group serves it.
    "control": {"soft_time_limit": 120, "time_limit": 150},
}
# Worker groups: which queues each kind of worker process serves, and how many
# processes it runs. Every queue must be served by some group (a test checks it).
EVENTBUS_WORKERS = {
    "email": {"queues": ["email", "control"], "concurrency": 2},
    "mail": {"queues": ["mail"], "concurrency": 1},
    "bulk": {
        "queues": [
            "notifications",
            "search",
            "suggestions",
            "catalogue",
            "prices",
            "imports",
            "default",
            "control",
        ],
        "concurrency": env.int("BULK_CONCURRENCY", default=2),
    },
}

# --- Event bus --------------------------------------------------------------------------
# A delivery not finished this long after it was sent is sent again by the relay.
EVENTBUS_LEASE_SECONDS = env.int("EVENTBUS_LEASE_SECONDS", default=120)
EVENTBUS_RELAY_INTERVAL = env.float("EVENTBUS_RELAY_INTERVAL", default=5.0)
EVENTBUS_RELAY_BATCH = env.int("EVENTBUS_RELAY_BATCH", default=500)
EVENTBUS_MAX_ATTEMPTS = env.int("EVENTBUS_MAX_ATTEMPTS", default=6)
EVENTBUS_BACKOFF_BASE = env.float("EVENTBUS_BACKOFF_BASE", default=2.0)
EVENTBUS_BACKOFF_MAX = env.float("EVENTBUS_BACKOFF_MAX", default=600.0)
EVENTBUS_RETENTION_DAYS = env.int("EVENTBUS_RETENTION_DAYS", default=30)
# After a failed publish, skip the broker for this long (the relay catches up).
EVENTBUS_BROKER_COOLDOWN = env.float("EVENTBUS_BROKER_COOLDOWN", default=5.0)

# --- Logging ----------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "correlation": {"()": "bookshare.eventbus.context.CorrelationIdLogFilter"},
        "housekeeping": {"()": "bookshare.eventbus.context.QuietHousekeepingFilter"},
    },
    "formatters": {
        "standard": {
            "format": "%(asctime)s %(levelname)s %(processName)s [%(correlation_id)s] "
            "%(name)s: %(message)s"
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "standard",
            "filters": ["correlation", "housekeeping"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "celery": {"level": LOG_LEVEL},
        # The filesystem transport has no host; kombu warns about that on every connect.
        "kombu.connection": {"level": "ERROR" if BROKER_IS_FILESYSTEM else LOG_LEVEL},
    },
}

# --- Scheduled work (celery beat) --------------------------------------------------------
CELERY_TASK_ROUTES = {
    "eventbus.relay": {"queue": "control"},
    "eventbus.cleanup": {"queue": "control"},
}
CELERY_BEAT_SCHEDULE = {
    "eventbus-relay": {"task": "eventbus.relay", "schedule": EVENTBUS_RELAY_INTERVAL},
    "eventbus-cleanup": {"task": "eventbus.cleanup", "schedule": 60 * 60 * 6},
}

# --- Accounts ----------------------------------------------------------------------------
# One-time verification codes (see docs/accounts.md).
ACCOUNTS_CODE_TTL_SECONDS = 10 * 60  # a code is valid for 10 minutes
ACCOUNTS_CODE_MAX_FAILURES = 5  # wrong tries before a code is dead
ACCOUNTS_RESEND_COOLDOWN_SECONDS = 60  # at most one new code a minute per account …
ACCOUNTS_RESEND_PER_HOUR = 5  # … and five an hour
# Per-client-address limits on POSTs, as (requests, window seconds), counted in the cache.
ACCOUNTS_RATELIMIT_ENABLED = env.bool("ACCOUNTS_RATELIMIT_ENABLED", default=True)
ACCOUNTS_RATE_LIMITS = {
    "register": (10, 60 * 60),
    "login": (20, 5 * 60),
    "verify": (30, 10 * 60),
    "resend": (10, 60 * 60),
    "password_reset": (10, 60 * 60),
}
# Behind reverse proxies: their addresses or networks (CIDR). X-Forwarded-For is read only
# from these peers (bookshare/core/proxies.py); empty means the client is REMOTE_ADDR.
ACCOUNTS_TRUSTED_PROXIES = env.list("ACCOUNTS_TRUSTED_PROXIES", default=[])
if env.bool("ACCOUNTS_TRUST_X_FORWARDED_FOR", default=False):
    raise ImproperlyConfigured(
        "ACCOUNTS_TRUST_X_FORWARDED_FOR is gone: it trusted the header from any client. "
        "List your proxies' addresses in ACCOUNTS_TRUSTED_PROXIES instead."
    )
# Password-reset links work for 2 hours (Django's default is 3 days).
PASSWORD_RESET_TIMEOUT = 2 * 60 * 60

# --- Books ------------------------------------------------------------------------------
# Posts per page on the home, genre, book, profile and search pages.
BOOKS_PAGE_SIZE = env.int("BOOKS_PAGE_SIZE", default=20)
# Length of each post's stored list of similar posts.
BOOKS_SIMILAR_COUNT = env.int("BOOKS_SIMILAR_COUNT", default=8)
# Largest cover image a member may upload, in bytes.
BOOKS_COVER_MAX_BYTES = env.int("BOOKS_COVER_MAX_BYTES", default=2 * 1024 * 1024)

# --- Site pages (about, contact, …) -------------------------------------------------------
# The address on the contact page.
CONTACT_EMAIL = env.str("CONTACT_EMAIL", default="hello@bookshare.local")

# --- Unverified accounts (accounts app, issue 12) -----------------------------------------
# Accounts whose address is never confirmed are deleted this many days after joining
# (a daily beat task), so their usernames and addresses are free again.
ACCOUNTS_UNVERIFIED_DAYS = env.int("ACCOUNTS_UNVERIFIED_DAYS", default=7)
CELERY_TASK_ROUTES["accounts.release_unverified"] = {"queue": "control"}
CELERY_BEAT_SCHEDULE["accounts-release-unverified"] = {
    "task": "accounts.release_unverified",
    "schedule": 60 * 60 * 24,
}
# --- Lists ------------------------------------------------------------------------------
# Books per page on a list's page.
LISTS_PAGE_SIZE = env.int("LISTS_PAGE_SIZE", default=24)
# Rows of a Goodreads/StoryGraph import applied per transaction on the `imports` queue.
LISTS_IMPORT_BATCH_SIZE = env.int("LISTS_IMPORT_BATCH_SIZE", default=200)

# --- Reactions (likes and reviews) -------------------------------------------------------
# Reviews per page on a book's page.
REACTIONS_REVIEWS_PAGE_SIZE = env.int("REACTIONS_REVIEWS_PAGE_SIZE", default=10)

# --- Event bus: metrics and dead-delivery retention (issue 11) ---------------------------
# /metrics (Prometheus) is open to signed-in staff, and to a scraper sending
# `Authorization: Bearer <METRICS_TOKEN>` when this is set (empty: staff only).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Dead deliveries (and their events, once nothing else of theirs is unfinished) are
# deleted this many days after they died; replay them before then.
EVENTBUS_DEAD_RETENTION_DAYS = env.int("EVENTBUS_DEAD_RETENTION_DAYS", default=90)
# PostgreSQL: claim a delivery's attempt in one UPDATE … RETURNING statement (false: the
# portable lock-then-update transaction; kept switchable for bench/events.py).
EVENTBUS_SINGLE_STATEMENT_CLAIM = env.bool("EVENTBUS_SINGLE_STATEMENT_CLAIM", default=True)
# Batching (PostgreSQL; docs/eventbus.md): consumers declared with batch_size > 1 run up
# to that many waiting deliveries per task; false runs everything one by one. The
# largest batch_size a consumer may declare.
EVENTBUS_BATCHING = env.bool("EVENTBUS_BATCHING", default=True)
EVENTBUS_MAX_BATCH_SIZE = env.int("EVENTBUS_MAX_BATCH_SIZE", default=100)
# After commit, hand the deliveries to a per-process background sender thread instead of
# sending them in the committing thread; it sends whatever has accumulated each time it
# wakes, a batching consumer's deliveries from many transactions in one message (group
# commit, no fixed delay). Queues declared `urgent` are still sent by the committing
# thread. false: every commit sends its own deliveries before returning.
EVENTBUS_SEND_IN_BACKGROUND = env.bool("EVENTBUS_SEND_IN_BACKGROUND", default=True)
# The background sender rests this long after each round: an isolated commit is sent at
# once, a stream of them in rounds at most this far apart (a batching consumer then gets
# one message for many deliveries). Non-urgent queues only; 0: no rest.
EVENTBUS_SEND_PAUSE_MS = env.float("EVENTBUS_SEND_PAUSE_MS", default=5.0)

# --- Notifications ------------------------------------------------------------------------
# The daily digest email (see docs/notifications.md): once a day, on the `mail` queue.
CELERY_TASK_ROUTES["notifications.send_digests"] = {"queue": "mail"}
CELERY_BEAT_SCHEDULE["notifications-daily-digest"] = {
    "task": "notifications.send_digests",
    "schedule": env.int("NOTIFICATIONS_DIGEST_INTERVAL", default=60 * 60 * 24),
}

# --- Discovery (recommendations, trending, genre communities) -----------------------------
# See docs/discovery.md. Trending: a signal's weight halves every half-life.
DISCOVERY_TRENDING_HALF_LIFE_HOURS = env.float("DISCOVERY_TRENDING_HALF_LIFE_HOURS", default=72)
DISCOVERY_TRENDING_WEIGHTS = {
    "post": 1.0,  # a copy shared
    "list": 1.0,  # added to a public want-to-read / reading / read / custom list
    "favourites": 2.0,  # added to public favourites
    "like": 1.0,  # a post liked
    "review": 2.0,  # a review written
    "request": 3.0,  # a copy requested
}
# Recommendations: books in each member's co-occurrence basket (their latest public ones),
# members needed before two books count as related, seeds and neighbours per refresh.
DISCOVERY_MEMBER_CAP = env.int("DISCOVERY_MEMBER_CAP", default=30)
DISCOVERY_MIN_SUPPORT = env.int("DISCOVERY_MIN_SUPPORT", default=2)
DISCOVERY_SEEDS = 20
DISCOVERY_NEIGHBOURS = 40
DISCOVERY_RECOMMENDATIONS = 30
# Similarity = pairs / (members(seed)^a × members(book)^(1−a)) × pairs / (pairs + shrinkage):
# a = 0.5 is cosine; 0.7 and shrinkage 3 did best on bench/discovery.py's planted clusters.
DISCOVERY_SIMILARITY_ALPHA = 0.7
DISCOVERY_SHRINKAGE = 3.0
DISCOVERY_GENRE_BOOST = 0.5  # related books in a joined genre score × 1.5
DISCOVERY_RECENCY_HALF_LIFE_DAYS = 60  # older seeds count less
CELERY_TASK_ROUTES["discovery.rebase"] = {"queue": "suggestions"}
CELERY_BEAT_SCHEDULE["discovery-rebase"] = {"task": "discovery.rebase", "schedule": 60 * 60 * 24}
CELERY_TASK_ROUTES["discovery.refresh_stalest"] = {"queue": "suggestions"}
# Members' stored lists also follow other members' activity: the 200 stalest every 10 minutes.
CELERY_BEAT_SCHEDULE["discovery-refresh"] = {"task": "discovery.refresh_stalest", "schedule": 600}

# --- Catalogue: outside book data, covers and prices (see docs/catalogue.md) ---------------
# A provider with no URL (ISBNdb: no key) is off. Tests and `make run` point these at
# `python manage.py catalogue fake_providers` on localhost.
OPENLIBRARY_URL = env.str("OPENLIBRARY_URL", default="https://openlibrary.org")
OPENLIBRARY_COVERS_URL = env.str("OPENLIBRARY_COVERS_URL", default="https://covers.openlibrary.org")
GOOGLE_BOOKS_URL = env.str("GOOGLE_BOOKS_URL", default="https://www.googleapis.com/books/v1")
GOOGLE_BOOKS_API_KEY = env.str("GOOGLE_BOOKS_API_KEY", default="")
ISBNDB_URL = env.str("ISBNDB_URL", default="https://api2.isbndb.com")
ISBNDB_API_KEY = env.str("ISBNDB_API_KEY", default="")
# Sent in the User-Agent, as Open Library asks of API clients.
CATALOGUE_CONTACT_EMAIL = env.str("CATALOGUE_CONTACT_EMAIL", default="")
# Which country's shop Google Books prices come from (ISO 3166-1 alpha-2).
PRICES_COUNTRY = env.str("PRICES_COUNTRY", default="GB")
# HTTP limits (seconds, bytes); the post form's ISBN lookup waits at most LOOKUP_TIMEOUT.
CATALOGUE_HTTP_TIMEOUT = env.float("CATALOGUE_HTTP_TIMEOUT", default=4.0)
CATALOGUE_LOOKUP_TIMEOUT = env.float("CATALOGUE_LOOKUP_TIMEOUT", default=2.5)
CATALOGUE_HTTP_RETRIES = env.int("CATALOGUE_HTTP_RETRIES", default=2)
CATALOGUE_RETRY_AFTER_CAP = env.float("CATALOGUE_RETRY_AFTER_CAP", default=5.0)
CATALOGUE_HTTP_MAX_BYTES = env.int("CATALOGUE_HTTP_MAX_BYTES", default=2 * 1024 * 1024)
# Requests a second per provider, under each one's published limit (0: no limit; only
# for local stand-ins). Counted in the cache, so shared by all processes with Redis.
CATALOGUE_RATE_LIMITS = env.dict(
    "CATALOGUE_RATE_LIMITS",
    cast={"value": float},
    default={"openlibrary": 3.0, "googlebooks": 5.0, "isbndb": 1.0},
)
# Circuit breaker: this many failures in a row open it for this many seconds.
CATALOGUE_BREAKER_FAILURES = env.int("CATALOGUE_BREAKER_FAILURES", default=5)
CATALOGUE_BREAKER_SECONDS = env.float("CATALOGUE_BREAKER_SECONDS", default=60.0)
# Stored price quotes are reused for this long; a member may ask this often per hour.
PRICES_MAX_AGE_HOURS = env.float("PRICES_MAX_AGE_HOURS", default=24.0)
PRICES_REQUESTS_PER_HOUR = env.int("PRICES_REQUESTS_PER_HOUR", default=20)
# A worker that took a fetch and vanished: the job is taken again after this long.
CATALOGUE_JOB_LEASE_SECONDS = env.int("CATALOGUE_JOB_LEASE_SECONDS", default=120)
# "Find it in your library": a search URL with {isbn} in it (empty: no link).
LIBRARY_SEARCH_URL = env.str("LIBRARY_SEARCH_URL", default="")
# Covers (uploaded or fetched) are decoded and re-encoded under this many pixels.
CATALOGUE_COVER_MAX_PIXELS = env.int("CATALOGUE_COVER_MAX_PIXELS", default=12_000_000)
# ISBN lookups on the post form (each may ask every provider), per member, per 10 minutes:
# the accounts rate limiter (accounts/ratelimit.py), off with ACCOUNTS_RATELIMIT_ENABLED.
ACCOUNTS_RATE_LIMITS["isbn_lookup"] = (env.int("CATALOGUE_LOOKUPS_PER_10_MINUTES", default=40), 600)
# Cover URLs (members' and providers') may not point at private, link-local or loopback
# addresses; true allows loopback only, for the local stand-ins (docs/catalogue.md).
CATALOGUE_COVER_ALLOW_PRIVATE = env.bool("CATALOGUE_COVER_ALLOW_PRIVATE", default=False)
# Request bodies other than uploaded files; the front proxy caps the whole body (see
# docs/operations.md).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
CELERY_BEAT_SCHEDULE["catalogue-resume"] = {"task": "catalogue.resume_jobs", "schedule": 60.0}
CELERY_TASK_ROUTES["catalogue.resume_jobs"] = {"queue": "control"}
# httpx logs every request at INFO; provider trouble is logged by the catalogue itself.
LOGGING["loggers"]["httpx"] = {"level": "WARNING"}

# --- Security hardening (issue 13; docs/security.md) ---------------------------------------
# A SECRET_KEY copied from an example or too short is refused with DEBUG off.
SECRET_KEY_PLACEHOLDERS = {
    "change-me",
    "changeme",
    "change_me",
    "secret",
    "secret-key",
    "your-secret-key",
    "django-insecure",
    "insecure",
    "replace-me",
    "xxx",
}
if not DEBUG:
    _key = SECRET_KEY.strip().lower()
    if (
        _key in SECRET_KEY_PLACEHOLDERS
        or _key.startswith(("django-insecure", "change-me", "changeme"))
        or SECRET_KEY == _INSECURE_DEV_KEY
    ):
        raise ImproperlyConfigured(
            "SECRET_KEY is a placeholder from an example file; DEBUG is off, so set a real "
            "one (python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "SECRET_KEY is too short or too simple (at least 50 characters, 5 different "
            "ones); DEBUG is off. Generate one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
        )

# Sign-in lockout (django-axes): per account AND per client address, on the site's sign-in
# form, the admin's and the password-change form's old-password check. Failures are kept
# in the database (no dependency on the cache, so an outage neither locks nor unlocks).
# A locked owner gets back in by resetting the password (the emailed link) or by waiting.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)  # hours
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "accounts.lockout.axes_username"
AXES_CLIENT_IP_CALLABLE = "bookshare.core.proxies.client_ip_for_axes"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["password", "password1", "password2", "old_password"]
AXES_VERBOSE = False
LOGGING["loggers"]["axes"] = {"level": "WARNING"}  # a line per sign-in is too much

# Per-recipient limits on emails that anyone can make us send, and the overall sign-up
# rate above which staff are alerted (ERROR log + mail to ADMINS), once per hour.
ACCOUNTS_MAIL_PER_RECIPIENT = {
    "password_reset": (3, 60 * 60),  # reset links to one address per hour
    "notice": (2, 24 * 60 * 60),  # "someone tried to register with your address" per day
}
ACCOUNTS_SIGNUP_ALERT_PER_HOUR = env.int("ACCOUNTS_SIGNUP_ALERT_PER_HOUR", default=200)
ADMINS = [tuple(a.split(":", 1)) for a in env.list("ADMINS", default=[]) if ":" in a]

# Content-Security-Policy (django-csp): only our own scripts and styles, no inline code.
_SELF = "'self'"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_SELF],
        "script-src": [_SELF],
        "style-src": [_SELF],
        "img-src": [_SELF, "data:"],
        "font-src": [_SELF],
        "connect-src": [_SELF],
        "object-src": ["'none'"],
        "base-uri": [_SELF],
        "form-action": [_SELF],
        "frame-ancestors": ["'none'"],
    }
}
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "interest-cohort=(), browsing-topics=()"
)

# /healthz answers within this many seconds; a check still running then counts as down.
HEALTHZ_TIMEOUT = env.float("HEALTHZ_TIMEOUT", default=0.9)
