"""The one HTTP client every provider uses (httpx), with the rules that keep the site up
when a provider is slow or down:

- connect/read timeouts of a few seconds (settings.CATALOGUE_HTTP_TIMEOUT);
- bounded retries on 429 and 5xx that honour `Retry-After`, capped;
- a per-provider circuit breaker whose state lives in the cache, shared by all processes;
- a per-provider request rate kept under the provider's published limit (cache too);
- bodies larger than settings.CATALOGUE_HTTP_MAX_BYTES are refused;
- never inside a database transaction or row lock: a request from inside
  `transaction.atomic()` raises `RequestInTransaction` (a programming error);
- `guard=True` (covers, whose addresses come from members and providers): the host is
  resolved once, every address it resolves to must be public, and the connection goes to
  the address that was checked (no second lookup, so no DNS rebinding); redirects are
  followed by hand, each hop checked the same way; only image types are read.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx
from django.conf import settings
from django.db import connection

from bookshare.core import cache

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
    "refused": "is not a public web address",
    "not_image": "did not answer with an image",
}
# Reasons that are about the address or answer, not the provider's health: they never
# count against its circuit breaker.
NOT_FAILURES = {"refused", "not_image"}


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
        cache.delete(self.failures_key)
        cache.delete(self.open_key)

    def record_failure(self) -> None:
        window = max(int(self.cooldown), 1) * 2
        # With the cache down this counts per process (bookshare/core/cache.py).
        failures = cache.incr_window(self.failures_key, timeout=window)
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
        used = cache.incr_window(key, timeout=5)
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


# -- the address guard (covers) -----------------------------------------------------------
MAX_REDIRECTS = 3
IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (one DNS lookup). Tests replace this."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


def address_allowed(address: str) -> bool:
    """A public unicast address. Loopback only with CATALOGUE_COVER_ALLOW_PRIVATE (the
    local stand-ins); private, link-local (169.254.169.254, cloud metadata), multicast,
    reserved, shared (100.64/10) and unspecified addresses never."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if mapped is not None:
            ip = mapped
    if ip.is_loopback:
        return bool(settings.CATALOGUE_COVER_ALLOW_PRIVATE)
    return ip.is_global and not (
        ip.is_multicast or ip.is_private or ip.is_reserved or ip.is_link_local
    )


def checked_address(url: httpx.URL) -> str:
    """The one address to connect to for `url`, after checking it; ProviderError
    ("refused") when the URL or any address its host resolves to is not allowed."""
    if url.scheme not in ("http", "https") or not url.host or url.userinfo:
        raise ProviderError("refused", f"not an http(s) URL: {url.scheme}")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        addresses = [str(ipaddress.ip_address(url.host))]  # a literal address: no DNS
    except ValueError:
        try:
            addresses = resolve(url.host, port)
        except (OSError, UnicodeError) as exc:
            raise ProviderError("unavailable", f"cannot resolve {url.host}") from exc
    if not addresses:
        raise ProviderError("unavailable", f"{url.host} has no address")
    refused = [a for a in addresses if not address_allowed(a)]
    if refused:
        # One bad answer is enough: a host that resolves inside our network is refused
        # even when it also has public addresses.
        raise ProviderError("refused", f"{url.host} resolves to {refused[0]}")
    return addresses[0]


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
        guard: bool = False,
    ):
        self.name = name
        self.follow_redirects = follow_redirects
        self.guard = guard
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
                once = self._guarded if self.guard else self._once
                status, body, retry_wait = once(url, params, attempt)
            except ProviderError as exc:
                if exc.reason not in NOT_FAILURES:
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
                return self._read(response, attempt)
        except httpx.TimeoutException as exc:
            raise ProviderError("timeout", f"{self.name}: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise ProviderError("unavailable", f"{self.name}: {type(exc).__name__}") from exc

    def _read(self, response: httpx.Response, attempt: int) -> tuple[int, bytes, float]:
        limit = self.limits.max_bytes
        if response.status_code == 429 or response.status_code >= 500:
            wait = _retry_after(response, self.limits.retry_after_cap, attempt)
            return response.status_code, b"", wait
        if self.guard and 200 <= response.status_code < 300:
            ctype = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if ctype not in IMAGE_TYPES:
                raise ProviderError("not_image", f"{self.name}: {ctype or 'no type'}")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ProviderError("bad_response", f"{self.name}: body too large")
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise ProviderError("bad_response", f"{self.name}: body too large")
            chunks.append(chunk)
        return response.status_code, b"".join(chunks), 0.0

    def _guarded(self, url: str, params: dict | None, attempt: int) -> tuple[int, bytes, float]:
        """One GET under the address guard: resolve once, check, connect to the checked
        address (Host header and TLS name stay the URL's host), redirects by hand."""
        target = httpx.URL(url, params=params) if params else httpx.URL(url)
        client = _shared_client(self.limits.timeout, self.limits.connect_timeout, guarded=True)
        try:
            for _hop in range(MAX_REDIRECTS + 1):
                address = checked_address(target)
                extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
                with client.stream(
                    "GET",
                    target.copy_with(host=address),
                    headers={**self.headers, "Host": target.netloc.decode("ascii")},
                    timeout=self._timeout(),
                    extensions=extensions,
                ) as response:
                    location = response.headers.get("Location")
                    if response.is_redirect and location:
                        if not self.follow_redirects:
                            raise ProviderError("refused", f"{self.name}: redirect not followed")
                        target = httpx.URL(urljoin(str(target), location))
                        continue
                    return self._read(response, attempt)
            raise ProviderError("bad_response", f"{self.name}: too many redirects")
        except httpx.TimeoutException as exc:
            raise ProviderError("timeout", f"{self.name}: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise ProviderError("unavailable", f"{self.name}: {type(exc).__name__}") from exc


_CLIENTS: dict[tuple, httpx.Client] = {}
_CLIENTS_LOCK = threading.Lock()


def _shared_client(timeout: float, connect: float, *, guarded: bool = False) -> httpx.Client:
    """One connection pool per process (and per timeout): building an httpx.Client (its
    TLS context) costs more CPU than a request. Not shared across fork().

    A guarded client (cover fetches, which connect to a checked address) takes no
    proxies from the environment (they would connect for us), keeps no connections
    alive (a pooled connection is keyed by address, not by the name checked) and
    follows no redirects itself (each hop is checked by the caller)."""
    key = (os.getpid(), timeout, connect, guarded)
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            if guarded:
                options = {
                    "follow_redirects": False,
                    "trust_env": False,
                    "limits": httpx.Limits(max_connections=20, max_keepalive_connections=0),
                }
            else:
                options = {
                    "follow_redirects": True,
                    "limits": httpx.Limits(max_connections=50, max_keepalive_connections=10),
                }
            client = httpx.Client(timeout=httpx.Timeout(timeout, connect=connect), **options)
            _CLIENTS[key] = client
        return client


def user_agent() -> str:
    """Names the site and a contact address, as Open Library asks of API users."""
    contact = settings.CATALOGUE_CONTACT_EMAIL or "no contact configured"
    return f"{settings.SITE_NAME}/1.0 ({settings.SITE_URL}; {contact})"
