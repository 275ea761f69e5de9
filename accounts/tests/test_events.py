import dataclasses

import pytest

from accounts.events import PasswordResetRequested, UserRegistered, VerificationCodeRequested
from bookshare.eventbus import EventSchemaError


def test_user_registered_is_frozen_and_typed():
    event = UserRegistered(user_id=1, email="a@example.org", username="a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.user_id = 2  # type: ignore[misc]


def test_user_registered_rejects_a_wrong_type():
    with pytest.raises(EventSchemaError):
        UserRegistered(user_id="1", email="a@example.org", username="a")


def test_user_registered_rejects_unknown_fields():
    with pytest.raises(EventSchemaError):
        UserRegistered.from_data({"user_id": 1, "email": "a@x.org", "username": "a", "code": "1"})


def test_verification_code_requested_round_trips():
    event = VerificationCodeRequested(user_id=3, email="c@example.org")
    assert VerificationCodeRequested.from_data(event.to_data()) == event


def test_password_reset_requested_carries_no_token_or_link():
    assert [f.name for f in dataclasses.fields(PasswordResetRequested)] == ["user_id"]


def test_account_events_are_version_1_from_accounts():
    for cls in (UserRegistered, VerificationCodeRequested, PasswordResetRequested):
        assert (cls.version, cls.source) == (1, "accounts")
