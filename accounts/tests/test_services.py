import pytest
from django.core.exceptions import ValidationError

from accounts.models import User, VerificationCode, VerificationRecord
from accounts.services import (
    password_reset_request,
    user_profile_update,
    user_register,
    verification_code_check,
    verification_code_request,
)
from bookshare.eventbus.models import StoredEvent

from .factories import UserFactory, VerificationCodeFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db

Kind = VerificationRecord.Kind


def records(user, kind):
    return VerificationRecord.objects.filter(user=user, kind=kind).count()


# -- registration -------------------------------------------------------------------------
def test_register_creates_an_unverified_member_with_a_hashed_password():
    user = user_register(email="a@example.org", username="ann", password="pass-phrase-77")
    assert not user.is_verified
    assert user.password != "pass-phrase-77" and user.check_password("pass-phrase-77")


def test_register_records_the_first_code_request():
    user = user_register(email="a@example.org", username="ann", password="pass-phrase-77")
    assert records(user, Kind.REQUESTED) == 1


def test_register_a_duplicate_email_in_another_case_raises_and_creates_nothing():
    VerifiedUserFactory(email="taken@example.org")
    with pytest.raises(ValidationError) as excinfo:
        user_register(email="TAKEN@Example.org", username="other", password="pass-phrase-77")
    assert "email" in excinfo.value.message_dict
    assert User.objects.count() == 1
    assert StoredEvent.objects.filter(type="UserRegistered").count() == 1


def test_register_a_duplicate_username_in_another_case_raises():
    VerifiedUserFactory(username="Reader")
    with pytest.raises(ValidationError) as excinfo:
        user_register(email="new@example.org", username="READER", password="pass-phrase-77")
    assert "username" in excinfo.value.message_dict


# -- checking codes -----------------------------------------------------------------------
def test_the_right_code_verifies_the_member(clock):
    code = VerificationCodeFactory(plain="246810")
    assert verification_code_check(user=code.user, code="246810").verified
    code.user.refresh_from_db()
    assert code.user.email_verified_at == clock.now()


def test_a_code_works_only_once():
    code = VerificationCodeFactory(plain="246810")
    verification_code_check(user=code.user, code="246810")
    code.refresh_from_db()
    assert code.status == VerificationCode.Status.USED
    assert verification_code_check(user=code.user, code="246810").outcome == "already_verified"


def test_spaces_in_the_typed_code_are_ignored():
    code = VerificationCodeFactory(plain="246810")
    assert verification_code_check(user=code.user, code=" 246 810 ").verified


def test_a_wrong_code_says_how_many_tries_are_left():
    code = VerificationCodeFactory(plain="246810")
    result = verification_code_check(user=code.user, code="000000")
    assert (result.outcome, result.tries_left) == ("wrong", 4)


def test_the_fifth_wrong_try_locks_the_code():
    code = VerificationCodeFactory(plain="246810")
    results = [verification_code_check(user=code.user, code="000000") for _ in range(5)]
    assert [r.tries_left for r in results] == [4, 3, 2, 1, 0]
    assert results[-1].outcome == "locked"
    code.refresh_from_db()
    assert code.status == VerificationCode.Status.LOCKED


def test_brute_force_is_stopped_even_with_the_right_code_after_the_lockout():
    code = VerificationCodeFactory(plain="246810")
    for guess in range(5):
        verification_code_check(user=code.user, code=f"{guess:06d}")
    assert verification_code_check(user=code.user, code="246810").outcome == "locked"
    code.user.refresh_from_db()
    assert not code.user.is_verified


def test_malformed_input_counts_as_a_wrong_try():
    code = VerificationCodeFactory(plain="246810")
    assert verification_code_check(user=code.user, code="x" * 500).tries_left == 4


def test_a_code_still_works_just_before_ten_minutes(clock):
    code = VerificationCodeFactory(plain="246810")
    clock.advance(minutes=9, seconds=59)
    assert verification_code_check(user=code.user, code="246810").verified


def test_a_code_expires_after_ten_minutes(clock):
    code = VerificationCodeFactory(plain="246810")
    clock.advance(minutes=10)
    assert verification_code_check(user=code.user, code="246810").outcome == "expired"
    code.refresh_from_db()
    assert code.status == VerificationCode.Status.EXPIRED


def test_a_replaced_code_no_longer_works(clock):
    old = VerificationCodeFactory(plain="111111", status=VerificationCode.Status.SUPERSEDED)
    clock.advance(seconds=70)
    VerificationCodeFactory(user=old.user, plain="222222")
    assert verification_code_check(user=old.user, code="111111").outcome == "wrong"


def test_no_code_yet_is_its_own_outcome():
    assert verification_code_check(user=UserFactory(), code="123456").outcome == "no_code"


def test_attempts_lockouts_and_successes_are_recorded():
    code = VerificationCodeFactory(plain="246810")
    for _ in range(5):
        verification_code_check(user=code.user, code="000000")
    assert records(code.user, Kind.FAILED) == 5
    assert records(code.user, Kind.LOCKED) == 1
    other = VerificationCodeFactory(plain="135790")
    verification_code_check(user=other.user, code="135790")
    assert records(other.user, Kind.SUCCEEDED) == 1


def test_records_carry_the_client_address_but_never_the_code():
    code = VerificationCodeFactory(plain="246810")
    verification_code_check(user=code.user, code="999999", ip="203.0.113.9")
    record = VerificationRecord.objects.get(user=code.user, kind=Kind.FAILED)
    assert record.ip == "203.0.113.9"
    assert "999999" not in record.detail and "246810" not in record.detail


# -- asking for a new code ----------------------------------------------------------------
def test_a_new_code_request_publishes_an_event():
    user = UserFactory()
    assert verification_code_request(user=user).sent
    event = StoredEvent.objects.get(type="VerificationCodeRequested")
    assert event.data == {"user_id": user.pk, "email": user.email}


def test_a_second_request_within_a_minute_is_refused_with_the_wait(clock):
    user = UserFactory()
    verification_code_request(user=user)
    clock.advance(seconds=20)
    result = verification_code_request(user=user)
    assert (result.outcome, result.wait_seconds) == ("cooldown", 40)


def test_registration_counts_as_the_first_request_for_the_cooldown(clock):
    user = user_register(email="a@example.org", username="ann", password="pass-phrase-77")
    clock.advance(seconds=30)
    assert verification_code_request(user=user).wait_seconds == 30


def test_a_request_after_a_minute_is_allowed(clock):
    user = UserFactory()
    verification_code_request(user=user)
    clock.advance(seconds=60)
    assert verification_code_request(user=user).sent


def test_a_sixth_request_within_an_hour_is_refused(clock):
    user = UserFactory()
    for _ in range(5):
        assert verification_code_request(user=user).sent
        clock.advance(minutes=2)
    result = verification_code_request(user=user)
    assert result.outcome == "cooldown"
    assert result.wait_seconds == 60 * 60 - 5 * 2 * 60
    assert StoredEvent.objects.filter(type="VerificationCodeRequested").count() == 5


def test_requests_are_allowed_again_an_hour_after_the_first(clock):
    user = UserFactory()
    for _ in range(5):
        verification_code_request(user=user)
        clock.advance(minutes=2)
    clock.advance(minutes=50)
    assert verification_code_request(user=user).sent


def test_staff_requests_ignore_the_limits():
    user = UserFactory()
    results = [verification_code_request(user=user, enforce_limits=False) for _ in range(7)]
    assert all(r.sent for r in results)


def test_a_verified_member_gets_no_new_code():
    assert verification_code_request(user=VerifiedUserFactory()).outcome == "already_verified"
    assert not StoredEvent.objects.filter(type="VerificationCodeRequested").exists()


# -- other write paths --------------------------------------------------------------------
def test_password_reset_request_publishes_one_event_per_member():
    users = [VerifiedUserFactory(), VerifiedUserFactory()]
    assert password_reset_request(users=users) == 2
    assert StoredEvent.objects.filter(type="PasswordResetRequested").count() == 2


def test_profile_update_saves_bio_and_genres():
    from books.models import Genre

    genre = Genre.objects.create(name="Poetry", slug="poetry")
    user = user_profile_update(user=VerifiedUserFactory(), bio="Hi", favourite_genres=[genre])
    user.refresh_from_db()
    assert user.bio == "Hi"
    assert list(user.favourite_genres.all()) == [genre]
