"""Registration benchmark: does a slow mail server slow registration, and how fast does
the code arrive?

    python bench/registration.py [--registrations 200] [--backlog 10000]

Starts, all on loopback: a gunicorn web server, one Celery worker on the `email` (and
`control`) queues only, and an aiosmtpd SMTP server in this process. Then, through real
HTTP (GET the form for its CSRF token, time the POST):

1. fast   — the SMTP server accepts at once;
2. backlog — the same, while --backlog no-op tasks sit on the `search` and `suggestions`
             queues, which no worker consumes (the email worker must not wait behind them);
3. slow   — the SMTP server takes 2 s to accept each message.

For each: registration latency p50/p95 and request-to-arrival time of the code email
p50/p95. Goals (issue #3): slow SMTP changes the registration p50 by < 20 %; the code
arrives within 3 s at p95 with the fast server, also under the backlog.

Needs PostgreSQL and Redis: DATABASE_URL and CELERY_BROKER_URL from the environment, or
postgres://postgres@127.0.0.1:5432/bookshare_bench_acc and redis://127.0.0.1:6379/5. The
database is created and migrated if missing; only the broker's own queues are purged.
Prints a table and writes bench/results/registration.json.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import _common  # noqa: E402 - bench/ is on the path when run as a script


def declared_queues() -> list[str]:
    """Every queue in settings.EVENTBUS_QUEUES (the one declaration)."""
    from django.conf import settings

    return list(settings.EVENTBUS_QUEUES)


def email_group_queues() -> str:
    from django.conf import settings

    return ",".join(settings.EVENTBUS_WORKERS["email"]["queues"])


DATABASE_URL = os.environ.get(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bookshare_bench_acc"
)
BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/5")
PASSWORD = "bench-passphrase-not-common-2026"

# Production-like settings for every process this script starts (and for itself).
ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "bookshare.settings",
    "DATABASE_URL": DATABASE_URL,
    "CELERY_BROKER_URL": BROKER_URL,
    "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-" + "k" * 40),
    "DEBUG": "false",
    "IGNORE_DOTENV": "1",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    # One client address makes every request here: per-address limits would stop the run.
    "ACCOUNTS_RATELIMIT_ENABLED": "false",
    "VAR_DIR": str(ROOT / "var" / "bench"),
    "LOG_LEVEL": "INFO",  # the worker says " ready." at INFO
    "PYTHONUNBUFFERED": "1",
}
os.environ.update(ENV)


def say(text: str) -> None:
    print(text, flush=True)


def wait_for(predicate, *, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise SystemExit(f"gave up after {timeout:.0f}s waiting for {what}")


# -- setup ---------------------------------------------------------------------------------
def ensure_database() -> None:
    _common.ensure_database(DATABASE_URL)
    say("migrating …")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=ENV,
        check=True,
    )
    say("collecting static files (DEBUG is off, as in production) …")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=ENV,
        check=True,
    )


def purge_queues() -> None:
    from kombu import Connection

    with Connection(BROKER_URL, connect_timeout=5) as conn:
        channel = conn.default_channel
        for queue in declared_queues():
            try:
                channel.queue_purge(queue)
            except Exception:  # noqa: S112 - a queue never declared is empty
                continue


def queue_length(queue: str) -> int:
    import redis

    return redis.Redis.from_url(BROKER_URL).llen(queue)


def enqueue_noops(count: int) -> None:
    """`count` tasks on the bulk queues that do nothing (a delivery id that is not there)."""
    import django

    django.setup()
    from bookshare.eventbus.tasks import deliver

    bulk = ("search", "suggestions")
    with deliver.app.producer_or_acquire() as producer:
        for i in range(count):
            deliver.apply_async((0,), queue=bulk[i % 2], producer=producer)
            if (i + 1) % 2500 == 0:
                say(f"  enqueued {i + 1}/{count} no-op tasks")


class Process:
    def __init__(self, name: str, cmd: list[str]):
        self.name = name
        self.log = ROOT / "var" / "bench" / f"{name}.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=ROOT, env=ENV, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        if self.proc.poll() is not None:
            raise SystemExit(
                f"{self.name} exited ({self.proc.returncode}):\n{self.output()[-3000:]}"
            )
        return True

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


# -- one registration over HTTP --------------------------------------------------------------
TOKEN_RE = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def register_once(port: int, email: str, username: str) -> tuple[float, float]:
    """GET the form, then POST it. Returns (wall-clock start of the POST, POST seconds)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/accounts/register/")
    response = conn.getresponse()
    body = response.read()
    cookies = [
        value.split(";", 1)[0] for key, value in response.getheaders() if key == "Set-Cookie"
    ]
    token = TOKEN_RE.search(body)
    if response.status != 200 or not token:
        raise SystemExit(f"GET /accounts/register/ answered {response.status}")
    conn.close()

    form = urlencode(
        {
            "csrfmiddlewaretoken": token.group(1).decode(),
            "email": email,
            "username": username,
            "password1": PASSWORD,
            "password2": PASSWORD,
        }
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(cookies),
        "Referer": f"http://127.0.0.1:{port}/accounts/register/",
    }
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started_wall, started = time.time(), time.perf_counter()
    conn.request("POST", "/accounts/register/", body=form, headers=headers)
    response = conn.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    if response.status != 302 or response.getheader("Location") != "/accounts/verify/":
        raise SystemExit(f"registration of {email} answered {response.status}")
    return started_wall, elapsed


def run_phase(name: str, *, port: int, smtp, count: int, run_id: str, drain: float) -> dict:
    say(f"\n== {name}: {count} registrations (SMTP accept delay {smtp.delay:.0f} s) ==")
    started: dict[str, float] = {}
    latencies: list[float] = []
    for i in range(count):
        email = f"{run_id}-{name}-{i}@bench.example.org"
        started[email], seconds = register_once(port, email, f"b{run_id}{name[:2]}{i}")
        latencies.append(seconds)
        if (i + 1) % 25 == 0:
            say(
                f"  {i + 1}/{count} registered, p50 so far"
                f" {statistics.median(latencies) * 1000:.0f} ms,"
                f" {sum(1 for e in started if smtp.for_address(e))} emails arrived"
            )
    say(f"  waiting up to {drain:.0f} s for the remaining emails …")
    deadline = time.monotonic() + drain
    while time.monotonic() < deadline:
        arrived = sum(1 for e in started if smtp.for_address(e))
        if arrived == count:
            break
        time.sleep(0.25)
    arrivals = []
    for email, t0 in started.items():
        got = smtp.for_address(email)
        if got:
            arrivals.append(got[0].arrived - t0)
    result = {
        "registrations": count,
        "smtp_delay_s": smtp.delay,
        "register_p50_ms": round(_common.pct(latencies, 0.50) * 1000, 1),
        "register_p95_ms": round(_common.pct(latencies, 0.95) * 1000, 1),
        "register_mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        "emails_arrived": len(arrivals),
        "arrival_p50_s": round(_common.pct(arrivals, 0.50), 3) if arrivals else None,
        "arrival_p95_s": round(_common.pct(arrivals, 0.95), 3) if arrivals else None,
        "arrival_max_s": round(max(arrivals), 3) if arrivals else None,
    }
    say(
        f"  registration p50 {result['register_p50_ms']} ms, p95 {result['register_p95_ms']} ms;"
        f" arrival p50 {result['arrival_p50_s']} s, p95 {result['arrival_p95_s']} s"
        f" ({len(arrivals)}/{count} arrived)"
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registrations", type=int, default=200)
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--backlog-registrations", type=int, default=200)
    parser.add_argument("--email-concurrency", type=int, default=4)
    parser.add_argument("--web-workers", type=int, default=2)
    args = parser.parse_args()
    # Imported here: bookshare.testing reads Django settings, which need ENV above.
    from accounts.tests.smtp import SMTPServer
    from bookshare.testing.services import free_port

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-command lines

    say(f"database {DATABASE_URL}\nbroker   {BROKER_URL}")
    ensure_database()
    purge_queues()
    smtp = SMTPServer(port=free_port()).start()
    ENV["EMAIL_URL"] = smtp.url
    web_port = free_port()
    web = worker = None
    started_at = time.monotonic()
    try:
        say(f"starting gunicorn ({args.web_workers} workers) and the email worker …")
        web = Process(
            "web",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "bookshare.wsgi:application",
                "--bind",
                f"127.0.0.1:{web_port}",
                "--workers",
                str(args.web_workers),
                "--log-level",
                "warning",
            ],
        )
        worker = Process(
            "worker-email",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "bookshare",
                "worker",
                "-Q",
                email_group_queues(),
                "-c",
                str(args.email_concurrency),
                "-n",
                f"bench-email-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "INFO",
            ],
        )

        def web_ready():
            web.alive()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", web_port, timeout=2)
                conn.request("GET", "/healthz")
                ok = conn.getresponse().status == 200
                conn.close()
                return ok
            except OSError:
                return False

        wait_for(web_ready, timeout=60, what="gunicorn")
        wait_for(lambda: worker.alive() and " ready." in worker.output(), timeout=60, what="worker")
        run_id = uuid.uuid4().hex[:6]

        # Warm-up: first requests load templates and the common-password list.
        for i in range(5):
            register_once(web_port, f"{run_id}-warm-{i}@bench.example.org", f"b{run_id}w{i}")
        wait_for(lambda: len(smtp.messages) >= 5, timeout=30, what="warm-up emails")

        phases = {}
        smtp.delay = 0.0
        phases["fast"] = run_phase(
            "fast", port=web_port, smtp=smtp, count=args.registrations, run_id=run_id, drain=30
        )

        say(f"\n== enqueueing {args.backlog} no-op tasks on search/suggestions (no consumer) ==")
        enqueue_noops(args.backlog)
        backlog_before = queue_length("search") + queue_length("suggestions")
        phases["backlog"] = run_phase(
            "backlog",
            port=web_port,
            smtp=smtp,
            count=args.backlog_registrations,
            run_id=run_id,
            drain=30,
        )
        backlog_after = queue_length("search") + queue_length("suggestions")
        phases["backlog"]["bulk_tasks_waiting_before"] = backlog_before
        phases["backlog"]["bulk_tasks_waiting_after"] = backlog_after
        purge_queues()

        smtp.delay = 2.0
        phases["slow"] = run_phase(
            "slow", port=web_port, smtp=smtp, count=args.registrations, run_id=run_id, drain=150
        )
    finally:
        for proc in (web, worker):
            if proc is not None:
                proc.stop()
        smtp.stop()
        purge_queues()

    fast, slow, backlog = phases["fast"], phases["slow"], phases["backlog"]
    change = slow["register_p50_ms"] / fast["register_p50_ms"] - 1
    goals = {
        "slow_smtp_register_p50_change": round(change, 3),
        "slow_smtp_register_p50_change_ok": abs(change) < 0.20,
        "fast_arrival_p95_ok": fast["arrival_p95_s"] is not None and fast["arrival_p95_s"] < 3,
        "backlog_arrival_p95_ok": (
            backlog["arrival_p95_s"] is not None and backlog["arrival_p95_s"] < 3
        ),
    }
    result = {
        "database": f"{urlparse(DATABASE_URL).hostname}{urlparse(DATABASE_URL).path}",
        "broker": BROKER_URL,
        "web": f"gunicorn, {args.web_workers} sync workers, DEBUG off, PBKDF2 password hashing",
        "email_worker": (
            f"celery prefork -c {args.email_concurrency}, queues {email_group_queues()}"
        ),
        "backlog_tasks": args.backlog,
        "phases": phases,
        "goals": goals,
        "seconds": round(time.monotonic() - started_at, 1),
    }
    path = _common.write_json("registration", result)

    say("\n| phase   | regs | register p50 | register p95 | email p50 | email p95 | arrived |")
    say("|---------|-----:|-------------:|-------------:|----------:|----------:|--------:|")
    for name in ("fast", "backlog", "slow"):
        p = phases[name]
        say(
            f"| {name:<7} | {p['registrations']:>4} | {p['register_p50_ms']:>9.1f} ms |"
            f" {p['register_p95_ms']:>9.1f} ms | {p['arrival_p50_s'] or 0:>7.2f} s |"
            f" {p['arrival_p95_s'] or 0:>7.2f} s | {p['emails_arrived']:>7} |"
        )
    say(
        f"\nslow SMTP changes registration p50 by {change * 100:+.1f} % (goal: < 20 %) — "
        f"{'met' if goals['slow_smtp_register_p50_change_ok'] else 'NOT met'}"
    )
    say(
        f"code arrival p95, fast server: {fast['arrival_p95_s']} s (goal < 3 s) — "
        f"{'met' if goals['fast_arrival_p95_ok'] else 'NOT met'}"
    )
    say(
        f"code arrival p95 with {backlog['bulk_tasks_waiting_before']} bulk tasks waiting: "
        f"{backlog['arrival_p95_s']} s (goal < 3 s) — "
        f"{'met' if goals['backlog_arrival_p95_ok'] else 'NOT met'}"
        f" ({backlog['bulk_tasks_waiting_after']} still waiting after the phase)"
    )
    say(f"(run took {result['seconds']:.0f} s; results in {path.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
