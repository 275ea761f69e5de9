"""The one HTTP client every provider uses (httpx), with the rules that keep the site up
when a provider is slow or down:

- connect/read timeouts of a few seconds (settings.CATALOGUE_HTTP_TIMEOUT);
- bounded retries on 429 and 5xx that honour `Retry-After`, capped;
- a per-provider circuit breaker whose state lives in the cache, shared by all processes;
- a per-provider request rate kept under the provider's published limit (cache too);
- bodies larger than settings.CATALOGUE_HTTP_MAX_BYTES are refused;
- never inside a database transaction or row lock: a request from inside
  `transaction.atomic()` raises `RequestInTransaction` (a programming error).
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import threading
import time
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.core.cache import cache
from django.db import connection

log = logging.getLogger(__name__)


class RequestInTransaction(RuntimeError):
    """A provider request was attempted inside a database transaction."""


class ProviderError(Exception):
    """A provider gave no usable answer. `reason` is one of REASONS (safe to show);
    the exception text is for logs only and never reaches a page."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


# What a member may be told about a provider that gave no answer.
REASONS = {
    "not_found": "does not know this book",
    "unavailable": "is not answering at the moment",
    "timeout": "is too slow to answer at the moment",
    "rate_limited": "asked us to slow down; try again later",
    "bad_response": "gave an answer we could not read",
    "skipped": "is skipped for a few minutes after repeated failures",
    "not_for_sale": "has no offer for this book",
    "off": "is not configured",
}


@dataclass(frozen=True)
class Limits:
    timeout: float
    connect_timeout: float
    retries: int
    retry_after_cap: float
    max_bytes: int


def default_limits(*, fast: bool = False) -> Limits:
    """The configured limits; `fast` for a person waiting on a page (no retries)."""
    timeout = float(settings.CATALOGUE_HTTP_TIMEOUT)
    return Limits(
        timeout=min(timeout, float(settings.CATALOGUE_LOOKUP_TIMEOUT)) if fast else timeout,
        connect_timeout=min(2.0, timeout),
        retries=0 if fast else int(settings.CATALOGUE_HTTP_RETRIES),
        retry_after_cap=float(settings.CATALOGUE_RETRY_AFTER_CAP),
        max_bytes=int(settings.CATALOGUE_HTTP_MAX_BYTES),
    )


# -- circuit breaker ----------------------------------------------------------------------
class CircuitBreaker:
    """Opens after `threshold` failures within `window` seconds, for `cooldown` seconds.

    State is in the default cache (Redis in production), so every web and worker process
    sees the same breaker. After the cooldown one request is let through (half-open): a
    success closes the breaker, a failure opens it again.
    """

    def __init__(self, name: str):
        self.name = name
        self.failures_key = f"catalogue:breaker:{name}:failures"
        self.open_key = f"catalogue:breaker:{name}:open_until"

    @property
    def threshold(self) -> int:
        return int(settings.CATALOGUE_BREAKER_FAILURES)

    @property
    def cooldown(self) -> float:
        return float(settings.CATALOGUE_BREAKER_SECONDS)

    def is_open(self) -> bool:
        until = cache.get(self.open_key)
        return until is not None and until > time.time()

    def record_success(self) -> None:
        cache.delete_many([self.failures_key, self.open_key])

    def record_failure(self) -> None:
        window = max(int(self.cooldown), 1) * 2
        cache.add(self.failures_key, 0, window)
        try:
            failures = cache.incr(self.failures_key)
        except ValueError:  # expired between add and incr
            cache.set(self.failures_key, 1, window)
            failures = 1
        if failures >= self.threshold:
            cache.set(self.open_key, time.time() + self.cooldown, int(self.cooldown) + 1)
            log.warning("provider %s: circuit open for %ss", self.name, self.cooldown)

    def reset(self) -> None:
        self.record_success()


# -- rate limit ---------------------------------------------------------------------------
def _respect_rate(name: str, per_second: float, budget: float) -> None:
    """Wait (at most `budget` seconds) until this provider may be asked again."""
    if per_second <= 0:
        return
    deadline = time.monotonic() + budget
    while True:
        window = int(time.time())
        key = f"catalogue:rate:{name}:{window}"
        cache.add(key, 0, 5)
        try:
            used = cache.incr(key)
        except ValueError:
            used = 1
        if used <= per_second:
            return
        pause = window + 1 - time.time()
        if time.monotonic() + pause > deadline:
            raise ProviderError("rate_limited", "local rate limit")
        time.sleep(max(pause, 0.01))


def _retry_after(response: httpx.Response, cap: float, attempt: int) -> float:
    value = response.headers.get("Retry-After", "").strip()
    seconds: float | None = None
    if value.isdigit():
        seconds = float(value)
    elif value:
        try:
            when = email.utils.parsedate_to_datetime(value)
            seconds = when.timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            seconds = None
    if seconds is None:
        seconds = 0.5 * (2**attempt)
    return max(0.0, min(seconds, cap))


class ProviderClient:
    """GETs JSON (or bytes) from one provider under its limits and breaker."""

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        headers: dict | None = None,
        limits: Limits | None = None,
        per_second: float = 0,
        follow_redirects: bool = True,
    ):
        self.name = name
        # Off for members' cover URLs: a redirect could lead inside our network.
        self.follow_redirects = follow_redirects
        self.base_url = base_url.rstrip("/")
        self.limits = limits or default_limits()
        self.per_second = per_second
        self.breaker = CircuitBreaker(name)
        self.headers = {"User-Agent": user_agent(), "Accept": "application/json", **(headers or {})}

    def _timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.limits.timeout, connect=self.limits.connect_timeout)

    def get_json(self, path: str, params: dict | None = None) -> dict | list | None:
        """The decoded JSON at `path`, or None for 404. Raises ProviderError otherwise."""
        body = self.get_bytes(path, params=params)
        if body is None:
            return None
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            self.breaker.record_failure()
            raise ProviderError("bad_response", f"{self.name}: not JSON") from exc

    def get_bytes(self, path: str, params: dict | None = None) -> bytes | None:
        if connection.in_atomic_block:
            raise RequestInTransaction(
                f"{self.name}: provider requests must not run inside a database transaction"
            )
        if self.breaker.is_open():
            raise ProviderError("skipped", f"{self.name}: circuit open")
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        attempt = 0
        while True:
            _respect_rate(self.name, self.per_second, budget=self.limits.timeout)
            try:
                status, body, retry_wait = self._once(url, params, attempt)
            except ProviderError:
                self.breaker.record_failure()
                raise
            if status == 404:
                self.breaker.record_success()
                return None
            if 200 <= status < 300:
                self.breaker.record_success()
                return body
            if status == 429 or status >= 500:
                if attempt < self.limits.retries:
                    attempt += 1
                    time.sleep(retry_wait)
                    continue
                self.breaker.record_failure()
                reason = "rate_limited" if status == 429 else "unavailable"
                raise ProviderError(reason, f"{self.name}: HTTP {status}")
            # Other 4xx: our request is wrong (bad key, bad query); not the provider's fault.
            raise ProviderError("bad_response", f"{self.name}: HTTP {status}")

    def _once(self, url: str, params: dict | None, attempt: int) -> tuple[int, bytes, float]:
        limit = self.limits.max_bytes
        try:
            client = _shared_client(self.limits.timeout, self.limits.connect_timeout)
            with client.stream(
                "GET",
                url,
                params=params,
                headers=self.headers,
                timeout=self._timeout(),
                follow_redirects=self.follow_redirects,
            ) as response:
                wait = 0.0
                if response.status_code == 429 or response.status_code >= 500:
                    wait = _retry_after(response, self.limits.retry_after_cap, attempt)
                    return response.status_code, b"", wait
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise ProviderError("bad_response", f"{self.name}: body too large")
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise ProviderError("bad_response", f"{self.name}: body too large")
                    chunks.append(chunk)
                return response.status_code, b"".join(chunks), wait
        except httpx.TimeoutException as exc:
            raise ProviderError("timeout", f"{self.name}: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise ProviderError("unavailable", f"{self.name}: {type(exc).__name__}") from exc


_CLIENTS: dict[tuple, httpx.Client] = {}
_CLIENTS_LOCK = threading.Lock()


def _shared_client(timeout: float, connect: float) -> httpx.Client:
    """One connection pool per process (and per timeout): building an httpx.Client (its
    TLS context) costs more CPU than a request. Not shared across fork()."""
    key = (os.getpid(), timeout, connect)
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            client = httpx.Client(
                timeout=httpx.Timeout(timeout, connect=connect),
                follow_redirects=True,
                limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
            )
            _CLIENTS[key] = client
        return client


def user_agent() -> str:
    """Names the site and a contact address, as Open Library asks of API users."""
    contact = settings.CATALOGUE_CONTACT_EMAIL or "no contact configured"
    return f"{settings.SITE_NAME}/1.0 ({settings.SITE_URL}; {contact})"
