"""Per-account and per-address sign-in lockout, by django-axes (settings: AXES_*).

Axes counts failed sign-ins (site form, admin form, and the password-change form's
old-password check, which reports its failures here) in the database, keyed by the
account and by the client address separately. At AXES_FAILURE_LIMIT failures for either,
that account or address is refused for AXES_COOLOFF_TIME, even with the right password.
The account's owner is not stuck: a password reset (the emailed link) clears the
account's failures (PasswordResetConfirmView calls `account_unlock`).
"""

from __future__ import annotations

import math

from django.contrib.auth.signals import user_login_failed
from django.shortcuts import render

from .models import User


def account_key(user: User) -> str:
    return f"account:{user.pk}"


def axes_username(request, credentials=None) -> str:
    """One key per account, whether the form got its email or its username (any case);
    an unknown name is its own key, so guessing accounts is throttled alike."""
    typed = ""
    if credentials:
        typed = credentials.get("username") or credentials.get("email") or ""
    elif request is not None and request.method == "POST":
        typed = request.POST.get("username", "")
    typed = str(typed).strip()[:254]
    if not typed:
        return ""
    field = "email__iexact" if "@" in typed else "username__iexact"
    user = User.objects.filter(**{field: typed}).only("pk").first()
    if user is not None:
        return account_key(user)
    return "unknown:" + typed.casefold()


def account_unlock(user: User) -> int:
    """Forget the account's failed sign-ins (after the owner proved it by email)."""
    from axes.utils import reset

    return reset(username=account_key(user))


def is_locked(request, user: User) -> bool:
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.is_locked(request, {"username": user.username})


def report_failure(request, user: User) -> None:
    """A wrong password typed outside authenticate() (the password-change form)."""
    user_login_failed.send(
        sender=__name__, credentials={"username": user.username}, request=request
    )


def lockout_response(request, original_response=None, credentials=None):
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else 60
    response = render(request, "accounts/locked.html", {"retry_minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
