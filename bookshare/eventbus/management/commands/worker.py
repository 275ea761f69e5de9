"""`python manage.py worker <group>`: a Celery worker for one declared worker group.

The queues, concurrency and time limits come from settings.EVENTBUS_WORKERS and
EVENTBUS_QUEUES, so `make run`, docker-compose.yml, the test workers and the benchmarks
start workers from the same declaration. Extra arguments after `--` go to Celery.
"""

from __future__ import annotations

import os
import sys

from django.core.management.base import BaseCommand, CommandError

from bookshare.eventbus.registry import worker_groups


def celery_worker_argv(
    group: str, *, concurrency: int | None = None, extra: list[str] | None = None
) -> list[str]:
    """The `celery … worker` command line for a declared worker group."""
    groups = worker_groups()
    if group not in groups:
        raise KeyError(f"unknown worker group {group!r}; declared: {', '.join(groups)}")
    spec = groups[group]
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "bookshare",
        "worker",
        "-Q",
        ",".join(spec["queues"]),
        "-c",
        str(concurrency or spec.get("concurrency", 2)),
        "-n",
        f"{group}@%h",
        "--without-gossip",
        "--without-mingle",
        *(extra or []),
    ]


class Command(BaseCommand):
    help = "Start a Celery worker for one worker group declared in settings.EVENTBUS_WORKERS."

    def add_arguments(self, parser):
        parser.add_argument("group", nargs="?", help="worker group (e.g. email, mail, bulk)")
        parser.add_argument("--concurrency", "-c", type=int, help="processes (default: declared)")
        parser.add_argument("--list", action="store_true", help="list the declared groups")
        parser.add_argument("celery_args", nargs="*", help="passed to celery after --")

    def handle(self, *, group, concurrency, list, celery_args, **_):
        groups = worker_groups()
        if list or not group:
            for name, spec in groups.items():
                queues = ", ".join(spec["queues"])
                self.stdout.write(f"{name:<8} -c {spec.get('concurrency', 2)}  queues: {queues}")
            if not group:
                self.stdout.write("\nStart one with: python manage.py worker <group>")
            return
        try:
            argv = celery_worker_argv(group, concurrency=concurrency, extra=celery_args)
        except KeyError as exc:
            raise CommandError(exc.args[0]) from None
        sys.stdout.flush()
        # Replace this process, so signals (Ctrl-C, SIGTERM for a warm shutdown) reach
        # Celery directly.
        os.execv(argv[0], argv)  # noqa: S606 - our own interpreter, fixed arguments
