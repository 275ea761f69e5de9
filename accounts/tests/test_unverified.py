"""Unverified accounts can be corrected, replaced and are released after a while; staff
made on the command line are verified (issue 12, items 5 and 8)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from accounts.services import unverified_release
from bookshare.eventbus.models import StoredEvent

from .factories import UserFactory, VerifiedUserFactory
from .test_views import GOOD, form, pending

pytestmark = pytest.mark.django_db


def test_registering_again_with_the_same_username_replaces_the_unverified_account(client):
    client.post("/accounts/register/", form(email="typo@exmaple.org", username="ada"))
    first = User.objects.get(username="ada")
    response = client.post("/accounts/register/", form(email="ada@example.org", username="ada"))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/verify/"
    assert list(User.objects.filter(username__iexact="ada").values_list("email", flat=True)) == [
        "ada@example.org"
    ]
    assert not User.objects.filter(pk=first.pk).exists()


def test_a_verified_username_or_address_is_still_taken(client):
    VerifiedUserFactory(username="grace", email="grace@example.org")
    response = client.post("/accounts/register/", form(email="g2@example.org", username="Grace"))
    assert "This username is taken" in response.content.decode()
    # The address: answered like a new sign-up (no enumeration, issue 13 item 6), and the
    # verified account is neither replaced nor joined by a second one.
    response = client.post(
        "/accounts/register/", form(email="GRACE@example.org", username="gracie2")
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/verify/"
    assert User.objects.count() == 1 and User.objects.get().username == "grace"


def test_the_address_can_be_corrected_on_the_verify_page_and_a_code_goes_there(client):
    user = UserFactory(username="lin", email="lin@exmaple.org")
    pending(client, user)
    page = client.get("/accounts/verify/").content.decode()
    assert 'action="/accounts/verify/email/"' in page
    before = StoredEvent.objects.filter(type__icontains="VerificationCodeRequested").count()
    response = client.post("/accounts/verify/email/", {"email": "lin@example.org"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == "lin@example.org" and not user.is_verified
    after = StoredEvent.objects.filter(type__icontains="VerificationCodeRequested").count()
    assert after == before + 1
    page = client.get("/accounts/verify/").content.decode()
    assert "lin@example.org" in page


def test_correcting_to_an_address_a_verified_member_has_is_refused(client):
    VerifiedUserFactory(email="taken@example.org")
    user = UserFactory(email="mine@exmaple.org")
    pending(client, user)
    response = client.post("/accounts/verify/email/", {"email": "Taken@example.org"})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    user.refresh_from_db()
    assert user.email == "mine@exmaple.org"


def test_bad_input_on_the_change_form_is_a_message_not_an_error(client):
    user = UserFactory()
    pending(client, user)
    response = client.post("/accounts/verify/email/", {"email": "not an address"})
    assert response.status_code == 200
    assert "valid email" in response.content.decode()


def test_change_email_without_a_pending_account_goes_to_sign_in(client):
    response = client.post("/accounts/verify/email/", {"email": "x@example.org"})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_old_unverified_accounts_are_released_and_recent_ones_kept():
    old = UserFactory(date_joined=timezone.now() - timedelta(days=8))
    recent = UserFactory(date_joined=timezone.now() - timedelta(days=1))
    verified = VerifiedUserFactory(date_joined=timezone.now() - timedelta(days=30))
    staff = UserFactory(is_staff=True, date_joined=timezone.now() - timedelta(days=30))
    assert unverified_release() == 1
    remaining = set(User.objects.values_list("pk", flat=True))
    assert remaining == {recent.pk, verified.pk, staff.pk}
    assert old.pk not in remaining


def test_release_command_and_beat_schedule(settings):
    UserFactory(date_joined=timezone.now() - timedelta(days=3))
    call_command("release_unverified", "--days", "2")
    assert User.objects.count() == 0
    entry = settings.CELERY_BEAT_SCHEDULE["accounts-release-unverified"]
    assert entry["task"] == "accounts.release_unverified"
    from accounts.tasks import release_unverified

    assert release_unverified.name == entry["task"]


def test_createsuperuser_makes_a_verified_account_that_can_sign_in(client):
    call_command(
        "createsuperuser",
        interactive=False,
        username="boss",
        email="boss@example.org",
        verbosity=0,
    )
    boss = User.objects.get(username="boss")
    assert boss.is_verified and boss.is_staff
    boss.set_password(GOOD)
    boss.save()
    response = client.post("/accounts/login/", {"username": "boss", "password": GOOD})
    assert response.status_code == 302
    assert "/verify" not in response["Location"]
    assert "_auth_user_id" in client.session


def test_staff_account_menu_links_to_the_event_bus_page(client):
    staff = VerifiedUserFactory(is_staff=True)
    client.force_login(staff)
    assert 'href="/ops/events/"' in client.get("/").content.decode()
    client.force_login(VerifiedUserFactory())
    assert 'href="/ops/events/"' not in client.get("/").content.decode()
