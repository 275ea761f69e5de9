"""Run web, one worker per declared worker group, and beat in one terminal; Ctrl-C stops all.

Used by `make run`. Each process's output is prefixed with its name. If one exits, the
others are stopped too, so a crash is never hidden.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
COLOURS = ["\033[36m", "\033[35m", "\033[33m", "\033[32m", "\033[34m"]
RESET = "\033[0m"


def worker_groups() -> list[str]:
    """The worker groups declared in settings.EVENTBUS_WORKERS (email, mail, bulk, …)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bookshare.settings")
    from django.conf import settings

    return list(settings.EVENTBUS_WORKERS)


def commands(host: str, port: int) -> dict[str, list[str]]:
    procs = {"web": [PY, "manage.py", "runserver", f"{host}:{port}", "--noreload"]}
    for group in worker_groups():
        procs[f"worker-{group}"] = [PY, "manage.py", "worker", group, "--", "-l", "INFO"]
    procs["beat"] = [PY, "-m", "celery", "-A", "bookshare", "beat", "-l", "INFO"]
    return procs


def environment(host: str, port: int, base: dict | None = None) -> dict[str, str]:
    """What every process gets: links in emails (verification, password reset) point at
    this server unless SITE_URL is already set (real environment variables win over .env)."""
    env = dict(os.environ if base is None else base, PYTHONUNBUFFERED="1")
    env.setdefault("SITE_URL", f"http://{host}:{port}")
    return env


def pump(name: str, colour: str, stream, width: int) -> None:
    tty = sys.stdout.isatty()
    prefix = f"{colour}{name:<{width}}{RESET} | " if tty else f"{name:<{width}} | "
    for line in iter(stream.readline, ""):
        sys.stdout.write(prefix + line)
        sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()

    env = environment(args.host, args.port)
    procs: dict[str, subprocess.Popen] = {}
    width = max(len(n) for n in commands(args.host, args.port))
    for i, (name, cmd) in enumerate(commands(args.host, args.port).items()):
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        procs[name] = proc
        threading.Thread(
            target=pump, args=(name, COLOURS[i % len(COLOURS)], proc.stdout, width), daemon=True
        ).start()

    print(
        f"\n  BookShare is starting: open http://{args.host}:{args.port}/  (Ctrl-C stops all)\n",
        flush=True,
    )

    def stop_all(*_):
        # SIGTERM to each main process: Celery workers then finish their current task and
        # stop their own pool (a warm shutdown). Whatever is left after 10 s is killed.
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 10
        for proc in procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def interrupt(*_):
        raise KeyboardInterrupt  # SIGTERM stops everything the way Ctrl-C does

    signal.signal(signal.SIGTERM, interrupt)
    try:
        while True:
            for name, proc in procs.items():
                code = proc.poll()
                if code is not None:
                    print(f"\n{name} exited with code {code}; stopping the others.", flush=True)
                    stop_all()
                    return code or 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopping web, workers and beat …", flush=True)
        stop_all()
        return 0


if __name__ == "__main__":
    sys.exit(main())
