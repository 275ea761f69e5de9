import pytest
from django.db.utils import OperationalError

from bookshare.core import health


@pytest.mark.django_db
def test_healthz_is_200_with_json_when_everything_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["down"] == []
    assert all(body["checks"][name]["ok"] for name in ("database", "broker", "cache"))


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_fails_and_hides_the_error(client, monkeypatch):
    def broken():
        raise OperationalError("connection to db.internal:5432 refused")

    monkeypatch.setattr(health.connection, "cursor", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False}
    assert b"db.internal" not in response.content


@pytest.mark.django_db
def test_public_healthz_never_shows_error_strings(client, redis_server):
    """Issue 13, item 12: the public body included hosts and ports. Failed before: the
    broker check's error ("... 127.0.0.1:<port> ...") was in every visitor's answer."""
    from bookshare.testing.worker import use_broker

    with use_broker(redis_server.url):
        redis_server.stop()
        response = client.get("/healthz")
    body = response.json()
    assert body["checks"]["broker"] == {"ok": False}
    assert str(redis_server.port).encode() not in response.content
    assert b"Error" not in response.content


@pytest.mark.django_db
def test_staff_see_what_failed(staff_client, redis_server):
    from bookshare.testing.worker import use_broker

    with use_broker(redis_server.url):
        redis_server.stop()
        body = staff_client.get("/healthz").json()
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["error"]
    assert "ms" in body["checks"]["database"]


@pytest.mark.django_db
def test_healthz_is_degraded_not_down_when_the_broker_is_unreachable(client, redis_server):
    from bookshare.testing.worker import use_broker

    with use_broker(redis_server.url):
        redis_server.stop()
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["down"] == ["broker"]


def test_a_check_that_hangs_counts_as_down_within_the_timeout(monkeypatch, db):
    import threading

    release = threading.Event()

    def hangs():
        release.wait(10)
        return {"ok": True}

    monkeypatch.setitem(health.CHECKS, "broker", hangs)
    try:
        results = health.run_checks(timeout=0.2)
    finally:
        release.set()
    assert results["broker"]["ok"] is False
    assert "no answer" in results["broker"]["error"]
    assert health.overall(results) == ("degraded", 200)


def test_healthz_rejects_writes(client):
    assert client.post("/healthz").status_code == 405
