"""Events the accounts app publishes. Frozen, typed, versioned (see bookshare.eventbus)."""

from bookshare.eventbus import Event, event


@event
class UserRegistered(Event):
    """A member account was created (from the user's post_save). Sends the first code."""

    event_type = "UserRegistered"
    version = 1
    source = "accounts"

    user_id: int
    email: str
    username: str


@event
class VerificationCodeRequested(Event):
    """A member (or staff in the admin) asked for a new verification code."""

    event_type = "VerificationCodeRequested"
    version = 1
    source = "accounts"

    user_id: int
    email: str


@event
class PasswordResetRequested(Event):
    """Someone asked for a password-reset link for this member's address.

    Carries no token: the consumer makes the token when it sends the email, so no
    reset link is ever stored in the event log.
    """

    event_type = "PasswordResetRequested"
    version = 1
    source = "accounts"

    user_id: int


@event
class RegistrationAttempted(Event):
    """Someone filled in the sign-up form with this member's email address. The page
    answered as for a new account (no enumeration); the member gets a notice email."""

    event_type = "RegistrationAttempted"
    version = 1
    source = "accounts"

    user_id: int


@event
class PasswordResetAsked(Event):
    """The password-reset form was sent for this address, known or not. The request
    does nothing else (so it takes the same time either way); the email worker finds
    the account, if any, and sends the link (PasswordResetRequested's path)."""

    event_type = "PasswordResetAsked"
    version = 1
    source = "accounts"

    email: str
