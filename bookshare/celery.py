"""The one Celery app. Workers: `celery -A bookshare worker -Q <queues>`."""

import os

from celery import Celery, signals
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bookshare.settings")
# The zero-setup broker: kombu's filesystem transport with atomic message writes (see
# bookshare/eventbus/fs_transport.py). Web, workers and beat all import this module.
TRANSPORT_ALIASES["filesystem"] = "bookshare.eventbus.fs_transport:Transport"

app = Celery("bookshare")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Tasks live in each app's tasks.py; the event bus discovers consumers.py itself.
app.autodiscover_tasks()


@signals.task_prerun.connect(dispatch_uid="bookshare.celery.db_connections_before")
@signals.task_postrun.connect(dispatch_uid="bookshare.celery.db_connections_after")
def _recycle_old_db_connections(**kwargs) -> None:
    """Drop connections past CONN_MAX_AGE or broken, and health-check the rest lazily.

    This is what Django does around each web request; Celery's own handling is switched
    off by CELERY_DB_REUSE_MAX because it reconnects for every task.
    """
    from django.db import close_old_connections

    close_old_connections()


@signals.worker_process_shutdown.connect(dispatch_uid="bookshare.celery.flush_eventbus_sender")
def _flush_eventbus_sender(**kwargs) -> None:
    """A prefork pool process leaves through os._exit, without atexit: send what its
    consumers published that the background sender still holds (bounded; the relay
    sends anything left after its lease)."""
    from bookshare.eventbus import sender

    sender.shutdown(sender.EXIT_FLUSH_TIMEOUT)
