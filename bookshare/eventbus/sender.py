"""The per-process background sender: deliveries go to the broker from one thread.

With EVENTBUS_SEND_IN_BACKGROUND on, publish()'s after-commit callback does not send:
it hands its (delivery id, queue, consumer) items to `submit()` and returns. One daemon
thread per process takes *everything* waiting each time it wakes and sends it over one
producer (publisher._dispatch_grouped: a batching consumer's deliveries, from however
many transactions, go as `deliver_many` messages of at most its batch_size). This is
group commit with no fixed window: when the process is quiet each commit is sent alone
as soon as the thread wakes; under load, whatever accumulated while the previous round
was being sent goes in the next one.

A message is only a nudge: the delivery rows were committed before anything reaches
this module. Items still buffered when a process dies are lost nudges, and the relay
sends those rows again once their lease runs out (their status is still `queued`).
What the broker refuses is marked `pending` by the thread, as the synchronous send
does, for the next relay round.

The thread is created lazily and again in a forked child (Celery's prefork pool and
gunicorn fork after import): a child starts with an empty buffer of its own; whatever
the parent had buffered is the parent's to send. `flush(timeout)` waits until what was
submitted so far has been sent; `shutdown(timeout)` flushes and ends the thread; it runs
at interpreter exit (atexit) and when a Celery pool process shuts down
(bookshare/celery.py), bounded by EXIT_FLUSH_TIMEOUT.

The thread touches the database only to mark unsent rows `pending`, on its own Django
connection: checked after each round as Django does between requests (broken or past
CONN_MAX_AGE: closed), closed after IDLE_SECONDS without work and when the thread ends.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

Item = tuple[int, str, str]  # (delivery id, queue, consumer name)

# How long a process that is exiting waits for its buffered deliveries to be sent. A
# round against a hung broker takes about EVENTBUS_BROKER_TIMEOUT (then the rows are
# marked pending); past this bound the rest is left to the relay.
EXIT_FLUSH_TIMEOUT = 5.0
# The thread closes its database connection after this long without work.
IDLE_SECONDS = 5.0


def _default_send(items: list[Item]) -> None:
    from .publisher import _dispatch_grouped

    _dispatch_grouped(items)


class _Sender:
    """One process's buffer and thread. Not shared with forked children."""

    def __init__(self, send: Callable[[list[Item]], None] = _default_send) -> None:
        self.pid = os.getpid()
        self.send = send
        self.lock = threading.Lock()
        self.has_items = threading.Condition(self.lock)  # the thread waits on this
        self.progress = threading.Condition(self.lock)  # flush() waits on this
        self.waiting: list[Item] = []
        self.submitted = 0  # items ever submitted
        self.done = 0  # items whose round has ended (sent, or left for the relay)
        self.rounds = 0
        self.thread: threading.Thread | None = None
        self.stopping = False
        self.rest_over = threading.Event()  # ends the rest after a round early

    def submit(self, items: Iterable[Item]) -> bool:
        """Buffer items for the thread. False if no thread can run (interpreter exit):
        the caller then sends them itself."""
        items = list(items)
        if not items:
            return True
        with self.lock:
            if self.stopping or not self._ensure_thread():
                return False
            self.waiting.extend(items)
            self.submitted += len(items)
            self.has_items.notify()
        return True

    def _ensure_thread(self) -> bool:
        # Called with the lock held.
        if self.thread is not None and self.thread.is_alive():
            return True
        thread = threading.Thread(target=self._loop, name="eventbus-sender", daemon=True)
        try:
            thread.start()
        except RuntimeError:  # can't start a thread at interpreter shutdown
            return False
        self.thread = thread
        return True

    def _loop(self) -> None:
        try:
            while self._one_round():
                pass
        finally:
            _close_db_connections()

    def _one_round(self) -> bool:
        """Wait for work, send it; False once stopped. Never raises for a failed round."""
        with self.lock:
            if not self.waiting and not self.stopping:
                self.has_items.wait(IDLE_SECONDS)
            if not self.waiting:
                if self.stopping:
                    return False
                idle = True
            else:
                idle = False
                batch, self.waiting = self.waiting, []
        if idle:
            # Quiet for a while: hold no database connection until work comes.
            _close_db_connections()
            with self.lock:
                while not self.waiting and not self.stopping:
                    self.has_items.wait()
            return True
        try:
            self.send(batch)
        except Exception:
            # Never out of the loop: the rows are still queued and the relay sends them
            # after their lease.
            log.exception(
                "eventbus sender: a round of %d deliveries failed; left for the relay",
                len(batch),
            )
        finally:
            # Django's rule between requests: drop a connection that broke or outlived
            # CONN_MAX_AGE. One kept open is reused by the next round (rounds that mark
            # rows pending come one after another while the broker is down).
            _recycle_db_connections()
            with self.lock:
                self.done += len(batch)
                self.rounds += 1
                self.progress.notify_all()
        pause = _pause_seconds()
        if pause > 0 and not self.stopping:
            # A rest after each round (EVENTBUS_SEND_PAUSE_MS): a commit arriving while
            # the thread is idle is still sent at once, but under a stream of commits
            # what arrives meanwhile goes in the next round, so a batching consumer
            # gets one message for many deliveries instead of one each. stop() ends it.
            self.rest_over.wait(pause)
            self.rest_over.clear()
        return True

    def stop(self, timeout: float) -> bool:
        """Send what is buffered (at most `timeout` seconds), then end the thread, which
        closes its database connections. True if it ended in time."""
        flushed = self.flush(timeout)
        with self.lock:
            self.stopping = True
            self.has_items.notify_all()
            thread = self.thread
        self.rest_over.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            return flushed and not thread.is_alive()
        return flushed

    def flush(self, timeout: float) -> bool:
        """Wait until everything submitted before this call has had its round. True if
        it has, False on timeout (what is left stays for the thread, or the relay)."""
        deadline = time.monotonic() + timeout
        with self.lock:
            target = self.submitted
            if self.done < target and not self._ensure_thread():
                return False
            while self.done < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.progress.wait(remaining)
        return True

    def pending(self) -> int:
        with self.lock:
            return self.submitted - self.done


def _pause_seconds() -> float:
    from django.conf import settings

    return max(0.0, float(getattr(settings, "EVENTBUS_SEND_PAUSE_MS", 0))) / 1000


def _recycle_db_connections() -> None:
    from django.db import close_old_connections

    try:
        close_old_connections()
    except Exception:
        log.exception("eventbus sender: checking its database connections failed")


def _close_db_connections() -> None:
    """The thread's own Django connections (it opens one only to mark unsent rows
    pending): closed when it has been idle for IDLE_SECONDS and when it stops."""
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        try:
            conn.close()
        except Exception:
            log.exception("eventbus sender: closing a database connection failed")


_sender: _Sender | None = None
_create_lock = threading.Lock()


def get_sender() -> _Sender:
    """This process's sender (made on first use, and again after a fork)."""
    global _sender
    sender = _sender
    if sender is None or sender.pid != os.getpid():
        with _create_lock:
            sender = _sender
            if sender is None or sender.pid != os.getpid():
                sender = _sender = _Sender()
    return sender


def submit(items: Iterable[Item]) -> bool:
    return get_sender().submit(items)


def flush(timeout: float = EXIT_FLUSH_TIMEOUT) -> bool:
    """Wait (at most `timeout` seconds) until this process's buffered deliveries are sent.
    True when nothing submitted before the call is still waiting."""
    sender = _sender
    if sender is None or sender.pid != os.getpid():
        return True
    return sender.flush(timeout)


def shutdown(timeout: float = EXIT_FLUSH_TIMEOUT) -> bool:
    """Send what this process has buffered, end its sender thread (closing its database
    connections) and forget it: the next submit starts a new one. True if all went in
    time."""
    global _sender
    sender = _sender
    if sender is None or sender.pid != os.getpid():
        return True
    done = sender.stop(timeout)
    with _create_lock:
        if _sender is sender:
            _sender = None
    return done


def _forget_after_fork() -> None:
    """In a forked child: the parent's buffer, thread and locks are not ours (a lock
    held by the parent's thread at the fork would stay held here forever)."""
    global _sender, _create_lock
    _sender = None
    _create_lock = threading.Lock()


def _flush_at_exit() -> None:
    sender = _sender
    if sender is None or sender.pid != os.getpid():
        return
    if not sender.stop(EXIT_FLUSH_TIMEOUT):
        log.warning(
            "eventbus sender: %d deliveries not sent at exit; the relay sends them after "
            "their lease",
            sender.pending(),
        )


os.register_at_fork(after_in_child=_forget_after_fork)
atexit.register(_flush_at_exit)
