"""Reactions to account events, all on the `email` queue (its own worker, never behind
bulk work). They talk to the mail server, so they run outside the delivery's transaction
(atomic=False) and send through the delivery's idempotency key (see docs/eventbus.md)."""

from datetime import datetime

from bookshare.eventbus import consumer

from .events import PasswordResetRequested, UserRegistered, VerificationCodeRequested
from .services import password_reset_send, verification_code_send


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
