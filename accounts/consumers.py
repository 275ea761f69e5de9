"""Reactions to account events, on the `email` queue (its own worker, never behind bulk
work). Every consumer that sends mail runs outside the delivery's transaction
(atomic=False) and sends through an idempotency key (see docs/eventbus.md): the code and
reset emails and the "someone tried to register with your address" notice under their
delivery's key, the staff's sign-up flood alert under a key per clock hour."""

from datetime import datetime

from bookshare.eventbus import consumer

from .events import (
    PasswordResetAsked,
    PasswordResetRequested,
    RegistrationAttempted,
    UserRegistered,
    VerificationCodeRequested,
)
from .services import (
    password_reset_send,
    password_reset_send_to_address,
    registration_notice_send,
    signup_rate_check,
    verification_code_send,
)


@consumer(
    UserRegistered,
    VerificationCodeRequested,
    queue="email",
    name="accounts.send_verification_code",
    atomic=False,
)
def send_verification_code(event, envelope: dict) -> None:
    """A new code for a new member, or for one who asked for another."""
    verification_code_send(
        user_id=event.user_id,
        event_id=envelope["id"],
        requested_at=datetime.fromisoformat(envelope["occurred_at"]),
        send_key=envelope["delivery"]["key"],
    )


@consumer(PasswordResetRequested, queue="email", name="accounts.send_password_reset", atomic=False)
def send_password_reset(event: PasswordResetRequested, envelope: dict) -> None:
    password_reset_send(
        user_id=event.user_id, event_id=envelope["id"], send_key=envelope["delivery"]["key"]
    )


@consumer(
    PasswordResetAsked,
    queue="email",
    name="accounts.send_password_reset_to_address",
    atomic=False,
)
def send_password_reset_to_address(event: PasswordResetAsked, envelope: dict) -> None:
    password_reset_send_to_address(
        email=event.email, event_id=envelope["id"], send_key=envelope["delivery"]["key"]
    )


@consumer(
    RegistrationAttempted, queue="email", name="accounts.send_registration_notice", atomic=False
)
def send_registration_notice(event: RegistrationAttempted, envelope: dict) -> None:
    registration_notice_send(
        user_id=event.user_id, event_id=envelope["id"], send_key=envelope["delivery"]["key"]
    )


@consumer(UserRegistered, queue="mail", name="accounts.watch_signup_rate", atomic=False)
def watch_signup_rate(event: UserRegistered, envelope: dict) -> None:
    """Staff hear about a sign-up flood (bookshare: ACCOUNTS_SIGNUP_ALERT_PER_HOUR)."""
    signup_rate_check()
