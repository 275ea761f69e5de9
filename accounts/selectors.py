"""Read paths of the accounts app, used by views, services and the admin."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from . import clock
from .models import User, VerificationCode, VerificationRecord


@dataclass(frozen=True)
class VerificationState:
    """What the verify page shows: the current code's state and the resend cooldown."""

    code_status: str  # "none" (on its way), "active", "expired", "locked"
    tries_left: int
    expires_at: datetime | None
    resend_wait_seconds: int
    email: str


def user_get_by_username(*, username: str) -> User | None:
    if not username or len(username) > 150 or "\x00" in username:
        return None
    return (
        User.objects.filter(username__iexact=username, is_active=True)
        .prefetch_related("favourite_genres")
        .first()
    )


def user_get_pending(*, user_id) -> User | None:
    """The unverified member a browser session is confirming, if still there."""
    if not isinstance(user_id, int):
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


def verification_code_current(*, user: User) -> VerificationCode | None:
    return (
        # A code counts once it is mailed (the consumer makes it just before the send).
        VerificationCode.objects.filter(user=user, sent_at__isnull=False)
        .exclude(status=VerificationCode.Status.SUPERSEDED)
        .order_by("-created_at", "-id")
        .first()
    )


def verification_resend_wait(*, user: User, now: datetime | None = None) -> int:
    """Seconds until this member may ask for a new code (0: now).

    At most one request a minute (registration counts as the first) and at most
    ACCOUNTS_RESEND_PER_HOUR new-code requests in any hour.
    """
    now = now or clock.now()
    cooldown = timedelta(seconds=settings.ACCOUNTS_RESEND_COOLDOWN_SECONDS)
    hour = timedelta(hours=1)
    records = VerificationRecord.objects.filter(user=user)
    wait = timedelta(0)
    last = (
        records.filter(
            kind__in=[VerificationRecord.Kind.REQUESTED, VerificationRecord.Kind.RESENT],
            created_at__gt=now - cooldown,
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is not None:
        wait = max(wait, last + cooldown - now)
    recent = list(
        records.filter(kind=VerificationRecord.Kind.RESENT, created_at__gt=now - hour)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[: settings.ACCOUNTS_RESEND_PER_HOUR]
    )
    if len(recent) >= settings.ACCOUNTS_RESEND_PER_HOUR:
        wait = max(wait, recent[-1] + hour - now)
    return max(0, math.ceil(wait.total_seconds()))


def verification_state(*, user: User, now: datetime | None = None) -> VerificationState:
    now = now or clock.now()
    code = verification_code_current(user=user)
    max_failures = settings.ACCOUNTS_CODE_MAX_FAILURES
    if code is None:
        status, tries_left, expires_at = "none", 0, None
    else:
        status, expires_at = code.effective_status(now), code.expires_at
        active = status == VerificationCode.Status.ACTIVE
        tries_left = max(0, max_failures - code.failed_attempts) if active else 0
    return VerificationState(
        code_status=status,
        tries_left=tries_left,
        expires_at=expires_at,
        resend_wait_seconds=verification_resend_wait(user=user, now=now),
        email=user.email,
    )
