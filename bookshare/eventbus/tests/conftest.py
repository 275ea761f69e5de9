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
