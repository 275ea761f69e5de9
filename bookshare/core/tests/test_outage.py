"""Issue 11, hole 5: one Redis for broker and cache (as docker-compose.yml runs it),
stopped. The site keeps serving: cache calls degrade (bookshare/core/cache.py), publish
leaves events to the relay, /healthz says "degraded". Then the outage drill: ten
registrations during the outage, Redis back, a real email worker and SMTP server →
ten codes, each mailed exactly once.

Before the fix `/`, the search pages, register, sign-in and password reset answered 500
(the rate limiter's and the genre counts' cache calls raised ConnectionError).
"""

from __future__ import annotations

import time

import pytest
from django.test import Client

from accounts.models import User
from accounts.tests.smtp import SMTPServer
from books.tests.factories import GenreFactory
from bookshare.core import cache as safe_cache
from bookshare.eventbus.operations import relay_once
from bookshare.eventbus.publisher import reset_broker_cooldown
from bookshare.testing import Worker, wait_until
from bookshare.testing.services import free_port
from bookshare.testing.worker import group_queues, use_broker

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-and-unusual-passphrase"


def cache_settings(port: int) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/1",
            "OPTIONS": {"socket_timeout": 0.25, "socket_connect_timeout": 0.25},
        }
    }


@pytest.fixture
def one_redis(redis_server, settings):
    """Broker AND cache on one private redis-server, as in docker-compose.yml."""
    settings.CACHES = cache_settings(redis_server.port)
    safe_cache.reset()
    with use_broker(redis_server.url):
        yield redis_server
    safe_cache.reset()


def register(client, i):
    return client.post(
        "/accounts/register/",
        {
            "email": f"outage{i}@example.org",
            "username": f"outage{i}",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )


def test_with_redis_down_the_public_pages_and_account_forms_still_answer(one_redis, caplog):
    one_redis.stop()
    client = Client()
    timings = {}
    checks = [
        ("GET", "/", {}),
        ("GET", "/search/", {}),
        ("GET", "/search/", {"q": "zzzz-no-such-book"}),
        ("GET", GenreFactory(slug="outage-genre").get_absolute_url(), {}),  # cached panels
        ("GET", "/trending/", {}),
        ("GET", "/accounts/register/", {}),
        ("POST", "/accounts/login/", {"username": "nobody", "password": "wrong"}),
        ("POST", "/accounts/password/reset/", {"email": "someone@example.org"}),
    ]
    for method, url, data in checks:
        started = time.monotonic()
        response = client.get(url, data) if method == "GET" else client.post(url, data)
        timings[f"{method} {url}"] = time.monotonic() - started
        assert response.status_code < 500, (method, url, response.status_code)
    response = register(client, 0)
    assert response.status_code == 302
    assert User.objects.filter(username="outage0").exists()
    # One warning for the outage, not one per request.
    warnings = [r for r in caplog.records if "cache unavailable" in r.getMessage()]
    assert len(warnings) == 1
    health = Client().get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert set(health.json()["down"]) == {"broker", "cache"}
    print("\nwith redis down: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in timings.items()))


def test_rate_limits_hold_per_process_while_the_cache_is_down(one_redis, settings):
    settings.ACCOUNTS_RATE_LIMITS = {**settings.ACCOUNTS_RATE_LIMITS, "login": (3, 300)}
    one_redis.stop()
    client = Client()
    statuses = [
        client.post("/accounts/login/", {"username": "x", "password": "y"}).status_code
        for _ in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]


def test_genre_counts_come_from_the_database_while_the_cache_is_down(one_redis):
    from books.selectors import genre_post_counts
    from books.tests.factories import BookPostFactory, GenreFactory

    genre = GenreFactory(slug="poetry", name="Poetry")
    post = BookPostFactory()
    post.book.genres.add(genre)
    one_redis.stop()
    assert genre_post_counts()[genre.pk] == 1


@pytest.mark.flow
def test_outage_drill_ten_registrations_ten_codes_each_mailed_once(one_redis, settings):
    smtp = SMTPServer(port=free_port()).start()
    worker = Worker(
        queues=group_queues("email"),
        broker_url=one_redis.url,
        env={
            "EMAIL_URL": smtp.url,
            "CACHE_URL": f"redis://127.0.0.1:{one_redis.port}/1",
        },
        name="outage-email",
    )
    try:
        worker.start()
        one_redis.stop()
        seconds = []
        for i in range(1, 11):
            client = Client(REMOTE_ADDR=f"198.51.100.{i}")
            started = time.monotonic()
            response = register(client, i)
            seconds.append(time.monotonic() - started)
            assert response.status_code == 302, response.content[:500]
            assert response["Location"] == "/accounts/verify/"
        assert User.objects.filter(username__startswith="outage").count() == 10
        assert Client().get("/healthz").json()["status"] == "degraded"

        one_redis.start()  # back, and empty: every message of the outage is gone
        safe_cache.reset()
        addresses = [f"outage{i}@example.org" for i in range(1, 11)]

        def all_mailed():
            reset_broker_cooldown()
            relay_once()
            return all(smtp.for_address(a) for a in addresses)

        wait_until(all_mailed, timeout=120, interval=1, message="ten codes after the outage")
        # More relay rounds and time must not send any code twice.
        for _ in range(3):
            relay_once()
            time.sleep(1)
        counts = {a: len(smtp.for_address(a)) for a in addresses}
        assert counts == {a: 1 for a in addresses}
        assert all(smtp.for_address(a)[0].code for a in addresses)
        health = Client().get("/healthz").json()
        assert health["status"] == "ok", health
        ordered = sorted(seconds)
        print(
            f"\noutage drill: 10 registrations, median {ordered[4] * 1000:.0f} ms, "
            f"range {ordered[0] * 1000:.0f}-{ordered[-1] * 1000:.0f} ms; 10 codes mailed once each"
        )
    finally:
        worker.stop()
        smtp.stop()
