"""Browser tests: Debian's Chromium driven by Playwright against the real stack.

Without /usr/bin/chromium they skip with a reason (a laptop) or fail (REQUIRE_SERVICES=1,
CI). See docs/testing.md.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bookshare.testing.services import free_port, require_service

from .stack import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, new_stack

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def chromium_path():
    require_service(
        os.path.exists(CHROMIUM),
        f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)",
    )
    return CHROMIUM


@pytest.fixture(scope="session")
def smtp_sink():
    from accounts.tests.smtp import SMTPServer

    server = SMTPServer(port=free_port()).start()
    yield server
    server.stop()


# Package scope: the stack's workers and beat share the test database and broker, so they
# must be gone before other apps' flow tests run (its mail worker would take their mail,
# its beat would relay their deliveries).
@pytest.fixture(scope="package")
def live_stack(chromium_path, django_db_setup, smtp_sink):
    """Web, email/mail/bulk workers and beat on the test database, for the e2e tests."""
    from bookshare.testing.worker import purge_broker

    purge_broker()
    stack = new_stack(smtp_sink.url).start()
    yield stack
    stack.stop()


# Per module, not per session: one sync Playwright at a time per process, and other
# apps' browser tests (reactions/tests/test_browser.py) start their own after ours.
@pytest.fixture(scope="module")
def chromium(chromium_path):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the tests' own ORM calls
    # (factories, assertions) are still plain synchronous code. Only while the browser
    # tests run: it must not leak into other tests' subprocesses (check --deploy refuses it).
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    # launch() gives Chromium a fresh, temporary user-data-dir of its own each time.
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    # ORM calls made while Playwright's loop ran may hold a connection of their own; close
    # it so the test database can be dropped.
    from django.db import connections

    connections.close_all()
    if previous is None:
        os.environ.pop(ASYNC_UNSAFE, None)
    else:
        os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture
def open_page(request, chromium, live_stack):
    """open_page(js=True, viewport=DESKTOP) -> a page in a fresh context (its own cookies).

    On failure every page the test opened is saved to var/e2e-artifacts/<test>-<n>.png.
    """
    contexts = []

    def make(*, js: bool = True, viewport: dict | None = None):
        context = chromium.new_context(
            base_url=live_stack.url, java_script_enabled=js, viewport=viewport or DESKTOP
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-120:]
        n = 0
        for context in contexts:
            for page in context.pages:
                n += 1
                try:
                    page.screenshot(path=str(ARTIFACTS / f"{name}-{n}.png"), full_page=True)
                    (ARTIFACTS / f"{name}-{n}.html").write_text(page.content())
                except Exception:  # noqa: S110 - a crashed page has nothing left to save
                    pass
    for context in contexts:
        context.close()
