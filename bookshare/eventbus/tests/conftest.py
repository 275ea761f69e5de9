import os
import tempfile
from pathlib import Path

import pytest
from django.conf import settings

from bookshare.testing.services import require_redis_server
from bookshare.testing.worker import RedisServer, use_broker


@pytest.fixture
def isolated_broker():
    """A broker of the configured kind that only this test uses, active in this process.

    Yields (broker_url, env for a Worker). On Redis: a private redis-server on a free
    port. On the filesystem default: a private folder.
    """
    yield from _isolated_broker()


@pytest.fixture(params=["configured", "rabbitmq"])
def fault_broker(request):
    """The fault tests' broker: the configured kind (as `isolated_broker`), then RabbitMQ.

    RabbitMQ (amqp://guest:guest@127.0.0.1:5672, or RABBITMQ_URL) gets a virtual host of
    its own per test, made and removed with rabbitmqctl. Missing: skipped on a laptop,
    a failure with REQUIRE_SERVICES=1 (CI starts it in .ci/run).
    """
    if request.param == "configured":
        yield from _isolated_broker()
        return
    yield from _rabbitmq_broker()


def _rabbitmq_broker():
    import shutil
    import subprocess
    import uuid

    from bookshare.testing.services import port_open, require_service

    base = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672")
    require_service(port_open(5672), "needs RabbitMQ on 127.0.0.1:5672 (rabbitmq-server)")
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    vhost = f"bookshare-test-{uuid.uuid4().hex[:12]}"
    made = subprocess.run([ctl, "add_vhost", vhost], capture_output=True, check=False)
    require_service(made.returncode == 0, f"rabbitmqctl add_vhost failed: {made.stderr!r}")
    subprocess.run(
        [ctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        capture_output=True,
        check=True,
    )
    url = f"{base.rstrip('/')}/{vhost}"
    try:
        with use_broker(url, {"confirm_publish": True}):
            yield url, {}
    finally:
        subprocess.run([ctl, "delete_vhost", vhost], capture_output=True, check=False)


def _isolated_broker():
    if settings.BROKER_IS_FILESYSTEM:
        var = Path(tempfile.mkdtemp(prefix="bus-"))
        folder = var / "broker"
        for sub in ("queue", "control"):
            (folder / sub).mkdir(parents=True)
        options = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
        options.update(
            data_folder_in=str(folder / "queue"),
            data_folder_out=str(folder / "queue"),
            control_folder=str(folder / "control"),
        )
        with use_broker("filesystem://", options):
            yield "filesystem://", {"VAR_DIR": str(var)}
        return
    server = RedisServer(require_redis_server()).start()
    try:
        with use_broker(server.url):
            yield server.url, {}
    finally:
        server.stop()


FAST = {"EVENTBUS_BACKOFF_BASE": "0.2", "EVENTBUS_BACKOFF_MAX": "2"}
