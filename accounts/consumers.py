"""Reactions to account events, all on the `email` queue (its own worker, never behind
bulk work). Each runs inside the transaction that marks its delivery done."""

from datetime import datetime

from bookshare.eventbus import consumer

from .events import PasswordResetRequested, UserRegistered, VerificationCodeRequested
from .services import password_reset_send, verification_code_send


@consumer(
    UserRegistered, VerificationCodeRequested, queue="email", name="accounts.send_verification_code"
)
def send_verification_code(event, envelope: dict) -> None:
    """A new code for a new member, or for one who asked for another."""
    verification_code_send(
        user_id=event.user_id,
        event_id=envelope["id"],
        requested_at=datetime.fromisoformat(envelope["occurred_at"]),
    )


@consumer(PasswordResetRequested, queue="email", name="accounts.send_password_reset")
def send_password_reset(event: PasswordResetRequested, envelope: dict) -> None:
    password_reset_send(user_id=event.user_id, event_id=envelope["id"])
