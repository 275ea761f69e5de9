import pytest

from accounts.models import VerificationCode
from accounts.selectors import (
    user_get_by_username,
    user_get_pending,
    verification_resend_wait,
    verification_state,
)
from accounts.services import verification_code_check, verification_code_request

from .factories import UserFactory, VerificationCodeFactory

pytestmark = pytest.mark.django_db


def test_state_without_a_code_is_none():
    assert verification_state(user=UserFactory()).code_status == "none"


def test_state_of_a_fresh_code_is_active_with_five_tries():
    code = VerificationCodeFactory()
    state = verification_state(user=code.user)
    assert (state.code_status, state.tries_left) == ("active", 5)
    assert state.expires_at == code.expires_at


def test_state_counts_down_tries():
    code = VerificationCodeFactory(plain="246810")
    verification_code_check(user=code.user, code="000000")
    assert verification_state(user=code.user).tries_left == 4


def test_state_of_an_old_code_is_expired(clock):
    code = VerificationCodeFactory()
    clock.advance(minutes=10)
    assert verification_state(user=code.user).code_status == "expired"


def test_state_of_a_locked_code_is_locked():
    code = VerificationCodeFactory(status=VerificationCode.Status.LOCKED)
    assert verification_state(user=code.user).code_status == "locked"


def test_no_wait_without_requests():
    assert verification_resend_wait(user=UserFactory()) == 0


def test_wait_counts_down_the_minute(clock):
    user = UserFactory()
    verification_code_request(user=user)
    clock.advance(seconds=45)
    assert verification_resend_wait(user=user) == 15


def test_get_by_username_ignores_case():
    user = UserFactory(username="Ada")
    assert user_get_by_username(username="aDA") == user


@pytest.mark.parametrize("username", ["", "a\x00b", "x" * 151])
def test_get_by_username_refuses_odd_names(username):
    assert user_get_by_username(username=username) is None


def test_pending_member_needs_an_int_id():
    user = UserFactory()
    assert user_get_pending(user_id=user.pk) == user
    assert user_get_pending(user_id=str(user.pk)) is None
