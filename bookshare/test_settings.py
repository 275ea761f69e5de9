"""Settings for the test suite: the real settings plus a test-only app.

Flow tests start real Celery workers with DJANGO_SETTINGS_MODULE pointing here, so the
worker sees the same test database and the test app's consumers.
"""

import os
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production-0123456789")
# Tests keep their broker folder, file cache and SQLite database apart from `make run`'s.
os.environ.setdefault("VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))

from bookshare.settings import *  # noqa: E402,F403
from bookshare.settings import DATABASES, INSTALLED_APPS, VAR_DIR  # noqa: E402

INSTALLED_APPS = [*INSTALLED_APPS, "bookshare.eventbus.tests.testapp"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if "EMAIL_URL" not in os.environ:
    # Tests read outgoing mail from django.core.mail.outbox; flow tests give their worker
    # an EMAIL_URL pointing at a real SMTP server on loopback instead.
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if "CACHE_URL" not in os.environ:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

if "EVENTBUS_SEND_IN_BACKGROUND" not in os.environ:
    # Most tests look at what a commit sent right after it: they get the synchronous
    # send. The background sender's own tests (and flow tests) turn it on with the
    # `settings` fixture and their workers' environment;
    # `EVENTBUS_SEND_IN_BACKGROUND=true make test` runs everything with it on.
    EVENTBUS_SEND_IN_BACKGROUND = False

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so a worker process can open the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-bookshare.sqlite3")}
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Outside catalogues are off unless a test (or its worker's environment) points them at
# the local stand-ins (catalogue.fakes): no test may reach the internet.
for _name in ("OPENLIBRARY_URL", "OPENLIBRARY_COVERS_URL", "GOOGLE_BOOKS_URL", "ISBNDB_URL"):
    if _name not in os.environ:
        globals()[_name] = ""
