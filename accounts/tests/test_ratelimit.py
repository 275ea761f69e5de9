import pytest
from django.test import RequestFactory

from accounts.ratelimit import client_ip, hit

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight(settings):
    settings.ACCOUNTS_RATE_LIMITS = {
        scope: (2, 60) for scope in ("register", "login", "verify", "resend", "password_reset")
    }


def test_requests_up_to_the_limit_are_allowed(tight):
    assert [hit(scope="login", key="198.51.100.1") for _ in range(2)] == [0, 0]


def test_the_next_request_is_told_how_long_to_wait(tight, clock):
    hit(scope="login", key="198.51.100.1")
    hit(scope="login", key="198.51.100.1")
    assert 0 < hit(scope="login", key="198.51.100.1") <= 60


def test_addresses_are_counted_apart(tight):
    hit(scope="login", key="198.51.100.1")
    hit(scope="login", key="198.51.100.1")
    assert hit(scope="login", key="198.51.100.2") == 0


def test_scopes_are_counted_apart(tight):
    hit(scope="login", key="198.51.100.1")
    hit(scope="login", key="198.51.100.1")
    assert hit(scope="register", key="198.51.100.1") == 0


def test_the_limit_resets_in_the_next_window(tight, clock):
    for _ in range(3):
        hit(scope="login", key="198.51.100.1")
    clock.advance(seconds=61)
    assert hit(scope="login", key="198.51.100.1") == 0


def test_limits_can_be_switched_off(tight, settings):
    settings.ACCOUNTS_RATELIMIT_ENABLED = False
    assert all(hit(scope="login", key="k") == 0 for _ in range(10))


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/accounts/register/", {"email": "x@example.org"}),
        ("/accounts/login/", {"username": "x", "password": "y"}),
        ("/accounts/verify/", {"code": "123456"}),
        ("/accounts/verify/resend/", {}),
        ("/accounts/password/reset/", {"email": "x@example.org"}),
    ],
)
def test_every_account_form_answers_429_with_a_friendly_page(client, tight, url, data):
    for _ in range(2):
        client.post(url, data)
    response = client.post(url, data)
    assert response.status_code == 429
    assert b"Slow down a little" in response.content
    assert 0 < int(response["Retry-After"]) <= 60


def test_looking_at_a_form_is_not_limited(client, tight):
    assert all(client.get("/accounts/login/").status_code == 200 for _ in range(5))


def test_a_limited_sign_in_does_not_sign_in(client, tight):
    user = UserFactory()
    for _ in range(2):
        client.post("/accounts/login/", {"username": user.username, "password": "wrong"})
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_client_ip_is_remote_addr_by_default():
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(request) == "203.0.113.5"


def test_client_ip_behind_a_trusted_proxy_is_the_last_forwarded_hop(settings):
    settings.ACCOUNTS_TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5"
    )
    assert client_ip(request) == "203.0.113.5"
