"""A real Celery worker process for flow tests, and a private redis-server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

from .services import free_port, port_open

ROOT = Path(settings.BASE_DIR)
# Every queue declared in settings, comma-separated (Celery's -Q form).
ALL_QUEUES = ",".join(settings.EVENTBUS_QUEUES)


def group_queues(group: str) -> str:
    """The -Q value for one worker group declared in settings.EVENTBUS_WORKERS."""
    return ",".join(settings.EVENTBUS_WORKERS[group]["queues"])


def wait_until(
    predicate: Callable[[], object],
    *,
    timeout: float = 30,
    interval: float = 0.1,
    message: str = "condition",
) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def settle(
    *,
    skip_queues=("email",),
    only_queues=None,
    idle_after: float | None = None,
    timeout: float = 90,
    strict: bool = True,
) -> None:
    """Wait until the workers have finished every delivery the test caused, so the
    transactional test's TRUNCATE never races a worker still writing.

    The teardown guard (root conftest) passes `idle_after` and `strict=False`: a test
    may leave deliveries unfinished on purpose (its worker stopped, its sends recorded
    rather than made), so the wait also ends once nothing is running and no delivery
    has changed for `idle_after` seconds, and a timeout does not fail the test."""
    import time

    from bookshare.eventbus.models import Delivery

    last: list = [None, time.monotonic()]

    def quiet() -> bool:
        unfinished = Delivery.objects.filter(status__in=Delivery.UNFINISHED).exclude(
            queue__in=skip_queues
        )
        if only_queues is not None:
            unfinished = unfinished.filter(queue__in=only_queues)
        state = sorted(unfinished.values_list("pk", "status", "attempts"))
        if not state:
            return True
        if idle_after is None or any(status == Delivery.Status.RUNNING for _, status, _ in state):
            return False
        if state != last[0]:
            last[:] = [state, time.monotonic()]
        return time.monotonic() - last[1] >= idle_after

    try:
        wait_until(quiet, timeout=timeout, message="the workers to finish the test's deliveries")
    except AssertionError:
        if strict:
            raise
    _settle_discovery_refreshes()
    _settle_catalogue_jobs(timeout=20.0 if strict else min(timeout, 20.0))


def _settle_catalogue_jobs(timeout: float = 20.0) -> None:
    """Catalogue consumers only open a job; its provider requests and writes run in a
    task sent after commit (not a delivery). Give jobs still waiting or running a
    moment to finish, so that task is not writing while the test's tables are truncated
    (CI saw that deadlock once). Jobs left pending on purpose (a test whose providers
    never answer) do not fail the test: after `timeout` it goes on."""
    import time

    from django.apps import apps

    if not apps.is_installed("catalogue"):
        return
    from catalogue.models import BookDetails, JobStatus, PriceComparison

    open_ = (JobStatus.PENDING, JobStatus.RUNNING)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not (
            BookDetails.objects.filter(status__in=open_).exists()
            or PriceComparison.objects.filter(status__in=open_).exists()
        ):
            return
        time.sleep(0.05)


def _settle_discovery_refreshes() -> None:
    """Discovery's consumers leave a member's list refresh to a job of its own, sent with a
    short countdown (not a delivery). Take any still marked here, in this process: a job
    running now is waited for (the member's advisory lock), and one that starts later
    finds nothing to do, so no refresh writes while the test's tables are truncated."""
    from django.apps import apps

    if not apps.is_installed("discovery"):
        return
    from discovery import taste
    from discovery.models import PendingRefresh

    for user_id in PendingRefresh.objects.values_list("user_id", flat=True):
        taste.refresh_pending(user_id)


def test_database_url() -> str:
    """A DATABASE_URL for the database this test run is using (the test database)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or ""
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = s.get("HOST") or "127.0.0.1"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{s['NAME']}"


class Worker:
    """`celery -A bookshare worker` in its own process group, on the test database."""

    # Workers of this test process that are running now: the teardown guard settles the
    # bus only when one could still be writing.
    running: set[Worker] = set()

    @classmethod
    def served_queues(cls) -> set[str]:
        """The queues some running worker of this process takes messages from."""
        return {
            queue
            for w in cls.running
            if w.proc is not None and w.proc.poll() is None
            for queue in w.queues.split(",")
        }

    def __init__(
        self,
        *,
        queues: str = ALL_QUEUES,
        concurrency: int = 2,
        broker_url: str | None = None,
        env: dict | None = None,
        name: str = "test",
    ):
        self.queues = queues
        self.concurrency = concurrency
        self.broker_url = broker_url or settings.CELERY_BROKER_URL
        self.extra_env = env or {}
        self.name = name
        self.proc: subprocess.Popen | None = None
        self.log = Path(tempfile.mkstemp(prefix=f"worker-{name}-", suffix=".log")[1])

    def environment(self) -> dict:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="bookshare.test_settings",
            DATABASE_URL=test_database_url(),
            CELERY_BROKER_URL=self.broker_url,
            VAR_DIR=str(settings.VAR_DIR),
            PYTHONUNBUFFERED="1",
            IGNORE_DOTENV="1",
        )
        env.update(self.extra_env)
        return env

    def start(self, *, timeout: float = 60) -> Worker:
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "bookshare",
            "worker",
            "-Q",
            self.queues,
            "-c",
            str(self.concurrency),
            "-P",
            "prefork",
            "-n",
            f"{self.name}-{os.getpid()}-{time.monotonic_ns()}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
        ]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=self.environment(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        Worker.running.add(self)
        wait_until(self._ready, timeout=timeout, interval=0.1, message=f"worker {self.name}")
        return self

    def _ready(self) -> bool:
        if self.proc and self.proc.poll() is not None:
            raise AssertionError(f"worker exited with {self.proc.returncode}:\n{self.output()}")
        return " ready." in self.output()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children), as a crash would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        Worker.running.discard(self)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        Worker.running.discard(self)

    def __enter__(self) -> Worker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class RedisServer:
    """A throwaway redis-server on a free loopback port, which a test may stop and start."""

    def __init__(self, binary: str = "redis-server"):
        self.binary = binary
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: port_open(self.port), timeout=10, message="redis-server")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        wait_until(lambda: not port_open(self.port), timeout=10, message="redis to stop")


def purge_broker() -> None:
    """Drop every waiting message on the configured broker (a clean start for a test run)."""
    from bookshare.celery import app

    if settings.BROKER_IS_FILESYSTEM:
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        for path in folder.glob("*.msg"):
            path.unlink(missing_ok=True)
        return
    with app.connection_for_write() as conn:
        for queue in ALL_QUEUES.split(","):
            try:
                conn.default_channel.queue_purge(queue)
            except Exception:  # noqa: S112 - a queue that was never declared is empty
                continue


class use_broker:  # noqa: N801 - used like a function
    """Point this process's Celery app at another broker for the duration."""

    def __init__(self, url: str, transport_options: dict | None = None):
        from bookshare.celery import app

        self.app = app
        self.url = url
        self.options = transport_options or {
            "socket_timeout": settings.EVENTBUS_BROKER_TIMEOUT,
            "socket_connect_timeout": settings.EVENTBUS_BROKER_TIMEOUT,
            "visibility_timeout": 3600,
        }

    def _reset(self) -> None:
        from kombu import pools

        from bookshare.eventbus.publisher import reset_broker_cooldown

        # kombu keeps producer pools in a process-wide registry keyed by connection
        # parameters; clear it with the app's own pools so nothing holds a stale one.
        if self.app._pool is not None:
            self.app._pool.force_close_all()
        pools.reset()
        self.app._pool = None
        self.app.amqp._producer_pool = None
        reset_broker_cooldown()

    def _apply(self, url: str | None, options: dict) -> None:
        # Celery reads CELERY_BROKER_URL from the environment before its own config.
        if url is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = url
        self.app.conf.update(
            CELERY_BROKER_URL=url or self.saved_url,
            CELERY_BROKER_WRITE_URL=None,
            CELERY_BROKER_READ_URL=None,
            CELERY_BROKER_TRANSPORT_OPTIONS=options,
        )
        settings.CELERY_BROKER_TRANSPORT_OPTIONS = options
        self._reset()

    def __enter__(self):
        self.saved_env = os.environ.get("CELERY_BROKER_URL")
        self.saved_url = self.app.conf.broker_url
        self.saved_options = self.app.conf.broker_transport_options
        self.saved_settings_options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        self._apply(self.url, self.options)
        return self

    def __exit__(self, *exc):
        self._apply(self.saved_env, self.saved_options)
        self.app.conf.update(CELERY_BROKER_URL=self.saved_url)
        settings.CELERY_BROKER_TRANSPORT_OPTIONS = self.saved_settings_options
