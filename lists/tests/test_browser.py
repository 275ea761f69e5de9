"""The list button and the import progress in a real browser (Debian's chromium): with
scripts, htmx swaps the button block in place (no page load) and the progress block
stops polling when the job is done."""

import shutil

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from lists import services
from lists.models import ListItem

from .csvfiles import GOODREADS_HEADER, goodreads_row, to_csv
from .factories import BookFactory, UserFactory

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="needs a chromium binary"),
]


@pytest.fixture(autouse=True)
def _orm_beside_playwright(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls made here
    # (factories, assertions) are ordinary synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def chromium(live_server):
    from django.db import connections
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()
        # The ORM calls made while Playwright's loop ran had connections of their own.
        connections.close_all()


@pytest.fixture
def browser_page(chromium):
    return chromium.new_context().new_page()


def sign_in(page, live_server, user):
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = django_settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    page.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": session.session_key,
                "url": live_server.url,
            }
        ]
    )


def test_list_button_swaps_in_place_with_scripts(browser_page, live_server):
    from playwright.sync_api import expect

    page = browser_page
    user = UserFactory()
    book = BookFactory(title="Browser Book")
    sign_in(page, live_server, user)
    page.goto(live_server.url + book.get_absolute_url())
    page.evaluate("window.__same_page = true")
    page.get_by_role("button", name="Reading", exact=True).click()
    status = page.locator(f"#list-controls-{book.pk} .reading-status strong")
    expect(status).to_have_text("Reading")
    assert page.evaluate("window.__same_page === true")  # no navigation happened
    page.get_by_role("button", name="Read", exact=True).click()
    expect(status).to_have_text("Read")  # exactly: not "Reading"
    assert page.evaluate("window.__same_page === true")
    assert list(
        ListItem.objects.filter(owner=user, book=book).values_list("status", flat=True)
    ) == ["read"]


def test_list_button_works_without_scripts(chromium, live_server):
    user = UserFactory()
    book = BookFactory(title="No Script Book")
    page = chromium.new_context(java_script_enabled=False).new_page()
    sign_in(page, live_server, user)
    page.goto(live_server.url + book.get_absolute_url())
    page.get_by_role("button", name="Want to read", exact=True).click()
    page.wait_for_load_state()
    assert "is on Want to read" in page.content()
    assert "Your reading status: <strong>Want to read</strong>" in page.content()


def test_import_progress_polls_until_done(browser_page, live_server):
    page = browser_page
    from django.db import transaction

    from .test_importer import run_all

    user = UserFactory()
    content = to_csv(GOODREADS_HEADER, [goodreads_row(title="Polled", author="P. Writer")])
    with transaction.atomic():
        job = services.import_start(user=user, filename="x.csv", content=content)
    sign_in(page, live_server, user)
    page.goto(live_server.url + job.get_absolute_url())
    page.evaluate("window.__same_page = true")
    assert "0 of 1 row done" in page.content()
    run_all(job.pk)  # as the worker would
    page.get_by_text("1 of 1 row done").wait_for(timeout=10000)
    assert page.evaluate("window.__same_page === true")
    assert page.locator("[hx-trigger]").count() == 0  # polling stopped
