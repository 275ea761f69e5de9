import pytest

from accounts.models import User, VerificationRecord
from bookshare.eventbus.models import StoredEvent

from .factories import UserFactory, VerificationCodeFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db


def test_user_list_shows_verification_state_dates_and_filters(staff_client):
    UserFactory(username="unconfirmed")
    response = staff_client.get("/admin/accounts/user/")
    assert response.status_code == 200
    for text in (b"unconfirmed", b"Date joined", b"Last login", b"email verified"):
        assert text in response.content


@pytest.mark.parametrize(("value", "expected"), [("yes", {"v"}), ("no", {"u"})])
def test_user_list_filters_by_verification(staff_client, value, expected):
    VerifiedUserFactory(username="v")
    UserFactory(username="u")
    response = staff_client.get("/admin/accounts/user/", {"verified": value})
    shown = {u.username for u in response.context["cl"].result_list} - {"reader0", "admin"}
    assert shown & {"u", "v"} == expected


def test_resend_action_publishes_a_code_request_for_unverified_members(staff_client):
    unverified, verified = UserFactory(), VerifiedUserFactory()
    response = staff_client.post(
        "/admin/accounts/user/",
        {
            "action": "send_verification_code",
            "_selected_action": [unverified.pk, verified.pk],
        },
        follow=True,
    )
    assert b"A new code is on its way to 1 member" in response.content
    events = StoredEvent.objects.filter(type="VerificationCodeRequested")
    assert [e.data["user_id"] for e in events] == [unverified.pk]


def test_resend_action_obeys_the_members_cooldown(staff_client):
    """Issue 13, item 4: staff sent five codes to one member in seconds. Failed before:
    the action passed enforce_limits=False, so three clicks made three codes."""
    user = UserFactory()
    for _ in range(3):
        response = staff_client.post(
            "/admin/accounts/user/",
            {"action": "send_verification_code", "_selected_action": [user.pk]},
            follow=True,
        )
    assert StoredEvent.objects.filter(type="VerificationCodeRequested").count() == 1
    assert b"had a code moments ago" in response.content


def test_a_member_added_in_the_admin_is_verified_and_gets_no_code(
    staff_client, deliver_email_queue, mailoutbox
):
    response = staff_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "added",
            "email": "added@example.org",
            "usable_password": "true",
            "password1": "a-long-and-unusual-passphrase",
            "password2": "a-long-and-unusual-passphrase",
        },
    )
    assert response.status_code == 302, response.content[:3000]
    assert User.objects.get(username="added").is_verified
    deliver_email_queue()
    assert mailoutbox == []


def test_verification_records_are_listed_read_only(staff_client):
    code = VerificationCodeFactory()
    VerificationRecord.objects.create(user=code.user, kind="failed", created_at=code.created_at)
    assert staff_client.get("/admin/accounts/verificationrecord/").status_code == 200
    record = VerificationRecord.objects.get()
    change = staff_client.get(f"/admin/accounts/verificationrecord/{record.pk}/change/")
    assert change.status_code == 200
    assert b'name="_save"' not in change.content
    assert staff_client.get("/admin/accounts/verificationrecord/add/").status_code == 403


def test_codes_are_listed_without_their_hash(staff_client):
    code = VerificationCodeFactory()
    response = staff_client.get(f"/admin/accounts/verificationcode/{code.pk}/change/")
    assert response.status_code == 200
    assert code.code_hash.encode() not in response.content
