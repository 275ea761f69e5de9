"""The real BookShare stack for browser tests: web, the email/mail/bulk workers and beat,
each a subprocess on the test database and the configured broker, plus a local SMTP sink.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from bookshare.testing.services import free_port, port_open
from bookshare.testing.worker import ROOT, test_database_url, wait_until

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = ROOT / "var" / "e2e-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def stack_environment(*, smtp_url: str, site_url: str) -> dict:
    """What every process of the stack sees: the test database, broker and VAR_DIR."""
    env = dict(os.environ)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the test process only
    env.update(
        DJANGO_SETTINGS_MODULE="bookshare.test_settings",
        DATABASE_URL=test_database_url(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        VAR_DIR=str(settings.VAR_DIR),
        EMAIL_URL=smtp_url,
        SITE_URL=site_url,
        PYTHONUNBUFFERED="1",
        IGNORE_DOTENV="1",
        # Sign-up and sign-in POSTs from one browser must not hit the per-address limits.
        ACCOUNTS_RATELIMIT_ENABLED="false",
        EVENTBUS_RELAY_INTERVAL="1",
        # The stack runs as `make run` does: commits handed to the background sender
        # (test_settings turns it off for in-process tests unless the environment says).
        EVENTBUS_SEND_IN_BACKGROUND="true",
    )
    return env


@dataclass
class Stack:
    """Processes started in order, stopped together (SIGTERM to each process group)."""

    env: dict
    port: int
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spawn(self, name: str, cmd: list[str]) -> None:
        log = Path(tempfile.mkstemp(prefix=f"e2e-{name}-", suffix=".log")[1])
        self.logs[name] = log
        with log.open("ab") as out:
            self.procs[name] = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace")

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited with {proc.returncode}:\n{self.output(name)}")

    def start(self) -> Stack:
        py = sys.executable
        # WhiteNoise serves the static files from STATIC_ROOT (var/test/static), as in
        # production after collectstatic.
        subprocess.run(
            [py, "manage.py", "collectstatic", "--no-input", "-v", "0"],
            cwd=ROOT,
            env=self.env,
            check=True,
        )
        self.spawn("web", [py, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"])
        for group in settings.EVENTBUS_WORKERS:
            self.spawn(
                f"worker-{group}",
                # Options before the group: argparse stops at "--" only after the positionals.
                [
                    py,
                    "manage.py",
                    "worker",
                    "-c",
                    "1",
                    group,
                    "--",
                    "-l",
                    "INFO",
                    "-n",
                    f"e2e-{group}-{os.getpid()}@%h",
                ],
            )
        schedule = Path(tempfile.mkdtemp(prefix="e2e-beat-")) / "schedule"
        self.spawn(
            "beat",
            [py, "-m", "celery", "-A", "bookshare", "beat", "-l", "INFO", "-s", str(schedule)],
        )

        def ready() -> bool:
            self.check_alive()
            workers = [n for n in self.procs if n.startswith("worker-")]
            return port_open(self.port) and all(" ready." in self.output(n) for n in workers)

        wait_until(ready, timeout=90, interval=0.2, message="web, workers and beat")
        return self

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5  # a test run: no need for a patient shutdown
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


def new_stack(smtp_url: str) -> Stack:
    port = free_port()
    return Stack(
        env=stack_environment(smtp_url=smtp_url, site_url=f"http://127.0.0.1:{port}"), port=port
    )
