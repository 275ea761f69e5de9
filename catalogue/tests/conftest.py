import pytest
from django.core.cache import cache

HOBBIT = "9780547928227"
DUNE = "9780441013593"


@pytest.fixture
def fake(fake_providers_server, settings, monkeypatch):
    """The session's stand-in providers, with this process's settings pointing at them,
    short timeouts, and a clean slate (modes, hits, breakers, cached lookups)."""
    from catalogue import fakes

    for key, value in fake_providers_server.settings().items():
        setattr(settings, key, value)
    settings.CATALOGUE_CONTACT_EMAIL = "books@bookshare.test"
    settings.CATALOGUE_HTTP_TIMEOUT = 1.0
    settings.CATALOGUE_LOOKUP_TIMEOUT = 1.0
    settings.CATALOGUE_HTTP_RETRIES = 2
    settings.CATALOGUE_RETRY_AFTER_CAP = 0.05
    settings.CATALOGUE_HTTP_MAX_BYTES = 256 * 1024
    settings.CATALOGUE_BREAKER_FAILURES = 3
    settings.CATALOGUE_BREAKER_SECONDS = 60
    settings.CATALOGUE_COVER_ALLOW_PRIVATE = True
    monkeypatch.setattr(fakes, "SLOW_SECONDS", 2.0)
    fake_providers_server.reset()
    cache.clear()
    yield fake_providers_server
    fake_providers_server.reset()
    cache.clear()


@pytest.fixture
def member(client, db):
    from books.tests.factories import UserFactory

    user = UserFactory()
    client.force_login(user)
    return user
