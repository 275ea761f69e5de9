import pytest
from django.db.utils import OperationalError

from bookshare.core import health


@pytest.mark.django_db
def test_healthz_is_200_with_json_when_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_fails(client, monkeypatch):
    def broken():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health.connection, "cursor", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {
        "ok": False,
        "error": "OperationalError: connection refused",
    }


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_unreachable(client, redis_server):
    from bookshare.testing.worker import use_broker

    with use_broker(redis_server.url):
        redis_server.stop()
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


def test_healthz_rejects_writes(client):
    assert client.post("/healthz").status_code == 405
