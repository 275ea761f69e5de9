"""End to end: web request → event → real Celery worker on the `email` queue → a real SMTP
server on loopback → the code typed back into the site. Runs on SQLite + the filesystem
broker by default, and on PostgreSQL + Redis when DATABASE_URL/CELERY_BROKER_URL say so."""

import pytest

from accounts.models import User
from bookshare.testing import Worker, wait_until
from bookshare.testing.services import free_port
from bookshare.testing.worker import group_queues, purge_broker

from .smtp import SMTPServer

pytestmark = [pytest.mark.flow, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-and-unusual-passphrase"


@pytest.fixture(scope="module")
def smtp_server():
    server = SMTPServer(port=free_port()).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def email_worker(django_db_setup, django_db_blocker, smtp_server):
    """Only the email queue's worker, sending through the real SMTP server."""
    purge_broker()
    worker = Worker(queues=group_queues("email"), env={"EMAIL_URL": smtp_server.url}, name="email")
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def smtp(smtp_server):
    smtp_server.clear()
    return smtp_server


def register(client, email, username):
    return client.post(
        "/accounts/register/",
        {"email": email, "username": username, "password1": PASSWORD, "password2": PASSWORD},
    )


def wait_for_mail(smtp, address, count=1):
    return wait_until(
        lambda: len(smtp.for_address(address)) >= count and smtp.for_address(address),
        timeout=60,
        message=f"email {count} to {address}",
    )[count - 1]


def test_register_receive_the_code_by_smtp_and_verify(client, smtp, email_worker):
    response = register(client, "flow.one@example.org", "flowone")
    assert response["Location"] == "/accounts/verify/"
    received = wait_for_mail(smtp, "flow.one@example.org")
    assert received.code is not None
    assert received.code in received.html
    response = client.post("/accounts/verify/", {"code": received.code})
    assert response["Location"] == "/"
    assert "_auth_user_id" in client.session
    assert User.objects.get(username="flowone").is_verified


def test_unverified_sign_in_is_redirected_then_verified_by_the_emailed_code(
    client, smtp, email_worker
):
    register(client, "flow.two@example.org", "flowtwo")
    received = wait_for_mail(smtp, "flow.two@example.org")
    client.logout()
    response = client.post("/accounts/login/", {"username": "flowtwo", "password": PASSWORD})
    assert response["Location"] == "/accounts/verify/"
    assert "_auth_user_id" not in client.session
    client.post("/accounts/verify/", {"code": received.code})
    assert "_auth_user_id" in client.session


def test_password_reset_email_arrives_through_the_email_worker(client, smtp, email_worker):
    register(client, "flow.three@example.org", "flowthree")
    wait_for_mail(smtp, "flow.three@example.org")
    client.post("/accounts/password/reset/", {"email": "flow.three@example.org"})
    received = wait_for_mail(smtp, "flow.three@example.org", count=2)
    assert "/accounts/password/reset/" in received.text
