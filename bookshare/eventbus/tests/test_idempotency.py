import pytest
from django.db import transaction

from bookshare.eventbus import idempotency
from bookshare.eventbus.atomic import TransactionRequired
from bookshare.eventbus.models import ExternalCall

pytestmark = pytest.mark.django_db


def test_a_completed_call_is_not_made_again_and_its_result_is_kept():
    calls = []

    def send(to):
        calls.append(to)
        return {"id": len(calls)}

    assert idempotency.call_once("k1", send, "a@example.org") == {"id": 1}
    assert idempotency.call_once("k1", send, "a@example.org") == {"id": 1}
    assert calls == ["a@example.org"]
    assert idempotency.call_once("k2", send, "b@example.org") == {"id": 2}


def test_a_failed_call_stays_begun_and_the_next_attempt_calls_again():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("server went away")
        return "ok"

    with pytest.raises(ConnectionError):
        idempotency.call_once("k", flaky)
    record = ExternalCall.objects.get(key="k")
    assert record.tries == 1 and not record.completed  # recorded before the call
    assert idempotency.call_once("k", flaky) == "ok"
    record.refresh_from_db()
    assert record.tries == 2 and record.completed and record.result == "ok"


@pytest.mark.django_db(transaction=True)
def test_a_call_inside_a_transaction_is_refused_with_the_reason():
    with pytest.raises(TransactionRequired, match="atomic=False"), transaction.atomic():
        idempotency.call_once("k", lambda: None)
    assert not ExternalCall.objects.exists()
