"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for flow tests
and the registration benchmark. `delay` makes it take that long to accept each message."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import threading
import time
from dataclasses import dataclass

from aiosmtpd.controller import Controller

CODE_RE = re.compile(r"^\s{4}(\d{6})\s*$", re.M)


@dataclass
class Received:
    to: list[str]
    message: email.message.EmailMessage
    arrived: float  # time.time() when the server accepted it

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()

    @property
    def code(self) -> str | None:
        match = CODE_RE.search(self.text)
        return match.group(1) if match else None


class _Handler:
    def __init__(self, server: SMTPServer):
        self.server = server

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if self.server.delay:
            await asyncio.sleep(self.server.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.server._add(Received(list(envelope.rcpt_tos), message, time.time()))
        return "250 Message accepted for delivery"


class SMTPServer:
    def __init__(self, *, port: int, delay: float = 0.0):
        self.port = port
        self.delay = delay
        self._lock = threading.Lock()
        self._messages: list[Received] = []
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def _add(self, received: Received) -> None:
        with self._lock:
            self._messages.append(received)

    @property
    def messages(self) -> list[Received]:
        with self._lock:
            return list(self._messages)

    def for_address(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.to]

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def start(self) -> SMTPServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
