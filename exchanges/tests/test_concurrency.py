"""Two owners' tabs accepting different requests on one post at the same moment, on
PostgreSQL with two real connections: exactly one is accepted, the other gets a message."""

import threading

import pytest
from django.db import connection, connections, transaction

from books.models import BookPost
from books.tests.factories import BookPostFactory, UserFactory
from bookshare.testing import require_postgres, wait_until
from exchanges import services
from exchanges.models import CopyRequest
from exchanges.services import ExchangeError

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_concurrent_accepts_accept_exactly_one(settled_bus):
    require_postgres()
    post = BookPostFactory()
    first = services.request_create(requester=UserFactory(), post=post)
    second = services.request_create(requester=UserFactory(), post=post)
    owner = post.owner
    first_holds_lock = threading.Event()
    release_first = threading.Event()
    outcomes: dict[str, str] = {}

    def accept_first():
        try:
            with transaction.atomic():
                services.request_accept(actor=owner, request_id=first.pk)
                first_holds_lock.set()
                release_first.wait(30)
            outcomes["first"] = "accepted"
        except ExchangeError as error:
            outcomes["first"] = str(error)
        finally:
            connections.close_all()

    def accept_second():
        try:
            services.request_accept(actor=owner, request_id=second.pk)
            outcomes["second"] = "accepted"
        except ExchangeError as error:
            outcomes["second"] = str(error)
        finally:
            connections.close_all()

    a = threading.Thread(target=accept_first)
    a.start()
    assert first_holds_lock.wait(30)
    b = threading.Thread(target=accept_second)
    b.start()
    # The second accept is really blocked on the first's row lock before we let go.
    wait_until(lambda: _waiting_on_a_lock() >= 1, timeout=30, message="second accept waiting")
    release_first.set()
    a.join(30)
    b.join(30)

    assert outcomes["first"] == "accepted"
    assert "declined now" in outcomes["second"]
    states = dict(CopyRequest.objects.values_list("pk", "state"))
    assert states == {first.pk: "accepted", second.pk: "declined"}
    post.refresh_from_db()
    assert post.status == BookPost.Status.RESERVED


def test_holder_constraint_is_a_backstop(settled_bus):
    """Even bypassing the services, the database refuses two holders for one post."""
    require_postgres()
    from django.db import IntegrityError

    post = BookPostFactory()
    CopyRequest.objects.create(
        post=post,
        post_number=post.pk,
        book=post.book,
        owner=post.owner,
        requester=UserFactory(),
        offer=post.offer,
        state="accepted",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        CopyRequest.objects.create(
            post=post,
            post_number=post.pk,
            book=post.book,
            owner=post.owner,
            requester=UserFactory(),
            offer=post.offer,
            state="handed_over",
        )
