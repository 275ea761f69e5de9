"""Write paths of the accounts app: registration, codes, password reset, profiles.

Keyword-only arguments, `<entity>_<action>` names. Emails are only ever sent from the
`*_send` functions, which run inside the `email` queue's consumers (accounts/consumers.py),
never in a web request.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from bookshare.eventbus import idempotency, publish

from . import clock
from .codes import code_generate, code_hash, code_is_well_formed, code_matches, code_normalize
from .events import (
    PasswordResetAsked,
    PasswordResetRequested,
    RegistrationAttempted,
    VerificationCodeRequested,
)
from .models import (
    AccountNoticeEmail,
    PasswordResetEmail,
    User,
    VerificationCode,
    VerificationRecord,
)
from .selectors import verification_code_current, verification_resend_wait

log = logging.getLogger(__name__)

DUPLICATE_EMAIL = "An account with this email address already exists. Try signing in."
DUPLICATE_USERNAME = "This username is taken. Please choose another."


# -- registration -------------------------------------------------------------------------
def user_register(*, email: str, username: str, password: str, ip: str | None = None) -> User:
    """Create an unverified member. Saving publishes UserRegistered (accounts/signals.py),
    whose consumer emails the first code. Raises ValidationError on a duplicate."""
    user = User(email=email, username=username)
    user.set_password(password)
    try:
        with transaction.atomic():
            # An unverified account with this name or address is someone's first try
            # (a mistyped address, a second attempt): this registration replaces it.
            unverified_replaceable(username=username, email=email).delete()
            user.save()
            _record(user=user, kind=VerificationRecord.Kind.REQUESTED, ip=ip)
    except IntegrityError:
        # Another request took the address or the name between the form's check and now.
        if User.objects.filter(email__iexact=user.email).exists():
            raise ValidationError({"email": DUPLICATE_EMAIL}) from None
        raise ValidationError({"username": DUPLICATE_USERNAME}) from None
    return user


def unverified_replaceable(*, username: str = "", email: str = ""):
    """Unverified, non-staff accounts holding this username or address: a new
    registration takes their place (they never confirmed an address, so own nothing)."""
    match = Q(pk__in=[])
    if username:
        match |= Q(username__iexact=username)
    if email:
        match |= Q(email__iexact=email.strip())
    return User.objects.filter(match, email_verified_at__isnull=True, is_staff=False)


@transaction.atomic
def user_change_unverified_email(*, user: User, email: str, ip: str | None = None) -> CodeRequest:
    """Correct the address of an account that is not verified yet, and send a code there.

    Raises ValidationError when a verified account has that address. Another unverified
    account holding it is replaced. The resend cool-down does not apply (the last code
    went to the wrong place) but the hourly limit on codes does, via the view's rate limit.
    """
    member = User.objects.select_for_update().get(pk=user.pk)
    if member.is_verified:
        return CodeRequest("already_verified")
    email = email.strip()
    if (
        User.objects.filter(email__iexact=email)
        .exclude(pk=member.pk)
        .filter(Q(email_verified_at__isnull=False) | Q(is_staff=True))
        .exists()
    ):
        raise ValidationError({"email": DUPLICATE_EMAIL})
    unverified_replaceable(email=email).exclude(pk=member.pk).delete()
    old = member.email
    member.email = email
    member.save(update_fields=["email"])
    _record(user=member, kind=VerificationRecord.Kind.REQUESTED, ip=ip, detail=f"email was {old}")
    return verification_code_request(user=member, ip=ip, enforce_limits=False, detail="new email")


@transaction.atomic
def unverified_release(*, older_than_days: int | None = None) -> int:
    """Delete accounts never verified within `older_than_days` of joining (default
    ACCOUNTS_UNVERIFIED_DAYS), freeing their usernames and addresses. Returns how many."""
    days = settings.ACCOUNTS_UNVERIFIED_DAYS if older_than_days is None else older_than_days
    cutoff = clock.now() - timedelta(days=days)
    stale = User.objects.filter(
        email_verified_at__isnull=True, is_staff=False, date_joined__lt=cutoff
    )
    return stale.delete()[1].get(User._meta.label, 0)


def registration_attempt_on_existing(*, email: str, ip: str | None = None) -> bool:
    """The sign-up form was sent with an address that has an account. Nothing is shown to
    the visitor (the page answers as for a new account); the owner is told by email.
    Returns whether a notice was queued (False when no such account)."""
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            return False
        publish(RegistrationAttempted(user_id=user.pk))
    log.info("registration attempted with the address of user %s from %s", user.pk, ip)
    return True


def _recipient_over_limit(*, kind: str, count: int) -> bool:
    limit, _window = settings.ACCOUNTS_MAIL_PER_RECIPIENT[kind]
    return count >= limit


def _window_start(kind: str) -> datetime:
    _limit, window = settings.ACCOUNTS_MAIL_PER_RECIPIENT[kind]
    return clock.now() - timedelta(seconds=window)


def registration_notice_send(
    *, user_id: int, event_id: str, send_key: str | None = None
) -> AccountNoticeEmail | None:
    """Email "someone tried to register with your address", at most once per event and
    within the per-recipient limit (ACCOUNTS_MAIL_PER_RECIPIENT["notice"]).

    Runs outside any transaction, like the code email: (1) a short transaction, holding
    the member's row, counts their recent notices and writes this event's row (sent_at
    set: it takes one of the member's notices; left empty when the limit holds it back);
    (2) the mail goes out through `call_once` under `send_key`; (3) the row's sent_at
    becomes the time it went. A failed send deletes the row (the delivery retries and
    counts again); an attempt that died after sending is completed from the record.
    """
    event_uuid = uuid.UUID(str(event_id))
    key = send_key or f"accounts.registration_notice:{event_uuid}"
    kind = AccountNoticeEmail.Kind.REGISTER_ATTEMPT
    with transaction.atomic():
        notice = AccountNoticeEmail.objects.filter(event_id=event_uuid).first()
        if notice is not None and (notice.sent_at is None or idempotency.completed(key)):
            return None  # held back, or already sent
        user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        if user is None or not user.email:
            return None
        if notice is None:
            recent = AccountNoticeEmail.objects.filter(
                user=user, kind=kind, sent_at__gte=_window_start("notice")
            ).count()
            notice = AccountNoticeEmail(
                event_id=event_uuid, user=user, kind=kind, email=user.email, created_at=clock.now()
            )
            if _recipient_over_limit(kind="notice", count=recent):
                log.warning("notice to user %s held back: per-recipient limit", user.pk)
                notice.save()
                return notice
            notice.sent_at = clock.now()  # counts for the limit from now on
            notice.save()
        context = {
            "user": user,
            "login_url": settings.SITE_URL.rstrip("/") + reverse("accounts:login"),
            "reset_url": settings.SITE_URL.rstrip("/") + reverse("accounts:password_reset"),
        }
    try:
        idempotency.call_once(
            key,
            _email_send,
            to=notice.email,
            template="accounts/email/registration_attempt",
            context=context,
        )
    except Exception:
        AccountNoticeEmail.objects.filter(pk=notice.pk).delete()
        raise
    AccountNoticeEmail.objects.filter(pk=notice.pk).update(sent_at=clock.now())
    return notice


def signup_rate_check(*, now: datetime | None = None) -> int:
    """Alert staff (ERROR log + mail to ADMINS) once per hour when more members than
    ACCOUNTS_SIGNUP_ALERT_PER_HOUR registered in the last hour. Returns the count.

    The mail goes through `call_once` under a key per clock hour (outside any
    transaction; the consumer is atomic=False), so it is sent once that hour whether
    or not the cache is up; the cache only spares the database the look-up. A failed
    send raises, and the delivery retries."""
    from django.core.mail import mail_admins

    from bookshare.core import cache

    now = now or clock.now()
    count = User.objects.filter(date_joined__gte=now - timedelta(hours=1)).count()
    limit = settings.ACCOUNTS_SIGNUP_ALERT_PER_HOUR
    if count <= limit:
        return count
    key = f"accounts:signup-alert:{now:%Y%m%d%H}"
    if cache.get(key) or idempotency.completed(key):
        return count
    message = (
        f"{count} accounts were registered in the last hour (alert threshold {limit}). "
        "Look for a sign-up flood in the admin (Users, by date joined) and the web logs."
    )
    log.error("sign-up rate alert: %s", message)
    idempotency.call_once(key, mail_admins, "Sign-up rate alert", message, fail_silently=False)
    cache.set(key, 1, timeout=2 * 60 * 60)
    return count


# -- asking for a code --------------------------------------------------------------------
@dataclass(frozen=True)
class CodeRequest:
    """Outcome of asking for a new code: "sent", "cooldown" or "already_verified"."""

    outcome: str
    wait_seconds: int = 0

    @property
    def sent(self) -> bool:
        return self.outcome == "sent"


def verification_code_request(
    *, user: User, ip: str | None = None, enforce_limits: bool = True, detail: str = ""
) -> CodeRequest:
    """Ask the email worker for a new code (it replaces the current one when sent).

    Members may ask once a minute and five times an hour; staff (enforce_limits=False)
    may always ask. The member's row is locked, so two requests at once count as two.
    """
    with transaction.atomic():
        member = User.objects.select_for_update().get(pk=user.pk)
        if member.is_verified:
            return CodeRequest("already_verified")
        if enforce_limits:
            wait = verification_resend_wait(user=member)
            if wait:
                return CodeRequest("cooldown", wait_seconds=wait)
        _record(user=member, kind=VerificationRecord.Kind.RESENT, ip=ip, detail=detail)
        publish(VerificationCodeRequested(user_id=member.pk, email=member.email))
    return CodeRequest("sent", wait_seconds=settings.ACCOUNTS_RESEND_COOLDOWN_SECONDS)


# -- sending a code (inside the email consumer) -------------------------------------------
def verification_code_send(
    *, user_id: int, event_id: str, requested_at: datetime, send_key: str | None = None
) -> VerificationCode | None:
    """Make a fresh code for the member and email it, at most once per event.

    Runs in the email consumer, outside any transaction, in three steps so the SMTP
    conversation holds no database lock: (1) a short transaction makes the code row
    (keyed by the event id); (2) the mail goes out through the bus's `call_once` under
    `send_key` (the delivery's idempotency key), recorded before the send; (3) a second
    short transaction marks the code sent and retires the member's older codes. A code
    counts for the member only once it is sent. Sends nothing when the event's code
    was already sent, a newer request has been served, or the member is gone or
    already verified. A failed send deletes the unsent code (and the delivery retries);
    an attempt that died after sending is completed from the record, without a second
    mail.
    """
    event_uuid = uuid.UUID(str(event_id))
    key = send_key or f"accounts.verification_code:{event_uuid}"
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        if user is None or user.is_verified:
            return None
        code = VerificationCode.objects.filter(event_id=event_uuid).first()
        if code is not None and code.sent_at is not None:
            return None
        if VerificationCode.objects.filter(user=user, requested_at__gt=requested_at).exists():
            return None
        if code is not None and idempotency.completed(key):
            mailed = True  # an earlier attempt sent it and died before noting that
        else:
            mailed = False
            # A code nobody has seen yet: new, or made by an attempt that never mailed it
            # (or cannot tell: then this mail, with a new code, replaces that one).
            now = clock.now()
            plain = code_generate()
            fields = {
                "code_hash": code_hash(salt=str(event_uuid), code=plain),
                "created_at": now,
                "expires_at": now + timedelta(seconds=settings.ACCOUNTS_CODE_TTL_SECONDS),
            }
            if code is None:
                code = VerificationCode.objects.create(
                    user=user,
                    event_id=event_uuid,
                    requested_at=requested_at,
                    email=user.email,
                    **fields,
                )
            else:
                for name, value in fields.items():
                    setattr(code, name, value)
                code.save(update_fields=list(fields))
            context = {
                "user": user,
                "code": plain,
                "valid_minutes": settings.ACCOUNTS_CODE_TTL_SECONDS // 60,
                "verify_url": settings.SITE_URL.rstrip("/") + reverse("accounts:verify"),
            }
    if not mailed:
        try:
            idempotency.call_once(
                key,
                _email_send,
                to=user.email,
                template="accounts/email/verification_code",
                context=context,
            )
        except Exception:
            VerificationCode.objects.filter(pk=code.pk, sent_at__isnull=True).delete()
            raise
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        now = clock.now()
        VerificationCode.objects.filter(
            user=user, status=VerificationCode.Status.ACTIVE, requested_at__lte=requested_at
        ).exclude(pk=code.pk).update(status=VerificationCode.Status.SUPERSEDED, finished_at=now)
        code.sent_at = now
        code.save(update_fields=["sent_at"])
        _record(user=user, kind=VerificationRecord.Kind.SENT, code=code)
    log.info("verification code sent to user %s for event %s", user.pk, event_uuid)
    return code


# -- checking a code ----------------------------------------------------------------------
@dataclass(frozen=True)
class CodeCheck:
    """Outcome of entering a code.

    outcome: "verified", "wrong" (tries_left says how many remain), "locked" (too many
    wrong tries: a new code is needed), "expired", "no_code" (none sent yet) or
    "already_verified".
    """

    outcome: str
    tries_left: int = 0

    @property
    def verified(self) -> bool:
        return self.outcome == "verified"


def verification_code_check(*, user: User, code: str, ip: str | None = None) -> CodeCheck:
    """Check a typed code against the member's current code, in constant time.

    A right code verifies the address once (the code is then used up). A wrong one counts
    against the code; the ACCOUNTS_CODE_MAX_FAILURES-th wrong try locks it for good.
    Every outcome is recorded (without the code) for the admin.
    """
    typed = code_normalize(code)
    kind = VerificationRecord.Kind
    max_failures = settings.ACCOUNTS_CODE_MAX_FAILURES
    with transaction.atomic():
        member = User.objects.select_for_update().get(pk=user.pk)
        if member.is_verified:
            return CodeCheck("already_verified")
        now = clock.now()
        # The member row is locked, so no new code can appear meanwhile.
        current = verification_code_current(user=member)
        if current is None:
            _record(user=member, kind=kind.REFUSED, ip=ip, detail="no code sent yet")
            return CodeCheck("no_code")
        status = current.effective_status(now)
        if status == VerificationCode.Status.LOCKED:
            _record(user=member, kind=kind.REFUSED, ip=ip, code=current, detail="code locked")
            return CodeCheck("locked")
        if status == VerificationCode.Status.EXPIRED:
            if current.status != VerificationCode.Status.EXPIRED:
                current.status = VerificationCode.Status.EXPIRED
                current.finished_at = now
                current.save(update_fields=["status", "finished_at"])
            _record(user=member, kind=kind.EXPIRED, ip=ip, code=current)
            return CodeCheck("expired")

        right = code_is_well_formed(typed) and code_matches(
            salt=str(current.event_id), code=typed, stored_hash=current.code_hash
        )
        if right:
            current.status = VerificationCode.Status.USED
            current.finished_at = now
            current.save(update_fields=["status", "finished_at"])
            member.email_verified_at = now
            member.save(update_fields=["email_verified_at"])
            user.email_verified_at = now
            _record(user=member, kind=kind.SUCCEEDED, ip=ip, code=current)
            return CodeCheck("verified")

        current.failed_attempts += 1
        tries_left = max(0, max_failures - current.failed_attempts)
        _record(
            user=member, kind=kind.FAILED, ip=ip, code=current, detail=f"{tries_left} tries left"
        )
        if tries_left == 0:
            current.status = VerificationCode.Status.LOCKED
            current.finished_at = now
            _record(user=member, kind=kind.LOCKED, ip=ip, code=current)
        current.save(update_fields=["failed_attempts", "status", "finished_at"])
        return CodeCheck("locked" if tries_left == 0 else "wrong", tries_left=tries_left)


# -- password reset -----------------------------------------------------------------------
def password_reset_request(*, users) -> int:
    """Ask the email worker to send each of these members a reset link. Returns how many."""
    users = list(users)
    with transaction.atomic():
        for user in users:
            publish(PasswordResetRequested(user_id=user.pk))
    return len(users)


def password_reset_ask(*, email: str) -> None:
    """The reset form's only work: one event, whether or not the address has an account,
    so known and unknown addresses take the same time. The worker looks the address up."""
    with transaction.atomic():
        publish(PasswordResetAsked(email=email.strip()[:254]))


def password_reset_send_to_address(
    *, email: str, event_id: str, send_key: str | None = None
) -> PasswordResetEmail | None:
    """In the email worker: the account with this address (if any, active, with a
    password) gets a reset link, within the per-recipient limit."""
    user = (
        User.objects.filter(email__iexact=email.strip(), is_active=True)
        .only("pk", "password")
        .first()
    )
    if user is None or not user.has_usable_password():
        return None
    return password_reset_send(user_id=user.pk, event_id=event_id, send_key=send_key)


def password_reset_send(
    *, user_id: int, event_id: str, send_key: str | None = None
) -> PasswordResetEmail | None:
    """Email a reset link (made now, never stored), at most once per event and within the
    per-recipient limit (ACCOUNTS_MAIL_PER_RECIPIENT["password_reset"]).

    Runs outside any transaction: the mail goes out through the bus's `call_once` under
    `send_key` (recorded before the send), then the sent row (keyed by the event id) is
    written; an attempt that died after sending is completed without a second mail.
    """
    event_uuid = uuid.UUID(str(event_id))
    key = send_key or f"accounts.password_reset:{event_uuid}"
    if PasswordResetEmail.objects.filter(event_id=event_uuid).exists():
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.has_usable_password() or not user.email:
        return None
    recent = PasswordResetEmail.objects.filter(
        user=user, sent_at__gte=_window_start("password_reset")
    ).count()
    if _recipient_over_limit(kind="password_reset", count=recent):
        # Ten reset requests from ten addresses must not mean ten emails.
        log.warning("password reset for user %s held back: per-recipient limit", user.pk)
        return None
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    idempotency.call_once(
        key,
        _email_send,
        to=user.email,
        template="accounts/email/password_reset",
        context={
            "user": user,
            "reset_url": settings.SITE_URL.rstrip("/") + path,
            "valid_hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
        },
    )
    with transaction.atomic():
        sent, _ = PasswordResetEmail.objects.get_or_create(
            event_id=event_uuid,
            defaults={"user": user, "email": user.email, "sent_at": clock.now()},
        )
    return sent


# -- profile ------------------------------------------------------------------------------
def user_profile_update(*, user: User, bio: str, favourite_genres) -> User:
    with transaction.atomic():
        user.bio = bio
        user.save(update_fields=["bio"])
        user.favourite_genres.set(favourite_genres)
    return user


# -- helpers ------------------------------------------------------------------------------
def _record(
    *,
    user: User,
    kind: str,
    ip: str | None = None,
    code: VerificationCode | None = None,
    detail: str = "",
) -> VerificationRecord:
    return VerificationRecord.objects.create(
        user=user, kind=kind, ip=ip, code=code, detail=detail[:200], created_at=clock.now()
    )


def _email_send(*, to: str, template: str, context: dict) -> None:
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    message.send(fail_silently=False)
