"""The accounts app's clock: one place to read the time, so tests can move it.

Services, consumers and rate limits call `clock.now()` (never `timezone.now()`
directly); tests replace `accounts.clock.now` to check expiry and cooldowns without
sleeping.
"""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
