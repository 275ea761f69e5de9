"""Fixtures for the accounts tests: a movable clock, a clean cache, running deliveries."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.tests.smtp import CODE_RE
from bookshare.eventbus.delivery import run_delivery
from bookshare.eventbus.models import Delivery


class Clock:
    """Stands in for `accounts.clock.now`; tests move it with advance()."""

    def __init__(self, start: datetime):
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta) -> datetime:
        self.current += timedelta(**delta)
        return self.current


@pytest.fixture
def clock(monkeypatch):
    fake = Clock(timezone.now())
    monkeypatch.setattr("accounts.clock.now", fake)
    return fake


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def deliver_email_queue():
    """Run every unfinished `email` delivery now, in this process (as the worker would)."""

    def run() -> list[str]:
        pending = Delivery.objects.filter(queue="email", status__in=Delivery.UNFINISHED)
        return [run_delivery(pk) for pk in pending.order_by("id").values_list("pk", flat=True)]

    return run


def code_from(message) -> str:
    """The code in a verification email's plain-text body."""
    match = CODE_RE.search(message.body)
    assert match, message.body
    return match.group(1)


@pytest.fixture
def registered(client, deliver_email_queue, mailoutbox):
    """Register through the web form and deliver the code email. Returns (email, code)."""

    def register(email="new.reader@example.org", username="newreader") -> tuple[str, str]:
        response = client.post(
            "/accounts/register/",
            {
                "email": email,
                "username": username,
                "password1": "a-long-and-unusual-passphrase",
                "password2": "a-long-and-unusual-passphrase",
            },
        )
        assert response.status_code == 302, response.content[:2000]
        deliver_email_queue()
        return email, code_from(mailoutbox[-1])

    return register
