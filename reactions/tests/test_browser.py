"""With scripts on (Chromium), the like button and count change in place: no page load."""

import shutil

import pytest
from django.conf import settings as django_settings
from django.db import connections

from reactions.models import PostLike

from .factories import BookPostFactory, PostLikeFactory, ReviewFactory, UserFactory

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="needs a Chromium executable"),
]


@pytest.fixture
def browser_page(monkeypatch):
    # Playwright's sync API keeps an event loop in this thread; the ORM calls the test
    # makes meanwhile are ordinary blocking ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context()
        try:
            yield context
        finally:
            context.close()
            browser.close()
            # While Playwright's loop runs, the ORM calls of the test were given a
            # connection of their own; close it, or the test database can't be dropped.
            connections.close_all()


def signed_in_page(live_server, client, browser_page, member):
    client.force_login(member)
    browser_page.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return browser_page.new_page()


def test_like_and_unlike_swap_in_place_with_htmx(live_server, client, browser_page):
    member = UserFactory()
    post = BookPostFactory()
    PostLikeFactory(post=post)
    page = signed_in_page(live_server, client, browser_page, member)
    page.goto(live_server.url + post.get_absolute_url())
    page.wait_for_function("window.htmx !== undefined")
    # A marker on the window survives only if the page is not reloaded.
    page.evaluate("window.__samePage = true")
    page.get_by_role("button", name="Like this post").click()
    page.get_by_role("button", name="Liked this post").wait_for()
    assert page.locator(".like-count").inner_text() == "2 likes"
    assert page.evaluate("window.__samePage === true")
    assert PostLike.objects.filter(post=post, user=member).exists()

    page.get_by_role("button", name="Liked this post").click()
    page.get_by_role("button", name="Like this post").wait_for()
    assert page.locator(".like-count").inner_text() == "1 like"
    assert page.evaluate("window.__samePage === true")
    assert not PostLike.objects.filter(post=post, user=member).exists()


def test_review_section_and_like_button_have_no_accessibility_violations(
    live_server, client, browser_page
):
    from axe_playwright_python.sync_playwright import Axe

    member = UserFactory()
    post = BookPostFactory()
    ReviewFactory(book=post.book, text="First line\nsecond line")
    ReviewFactory(book=post.book, user=member, rating=2)
    page = signed_in_page(live_server, client, browser_page, member)
    axe = Axe()
    for url, selector in (
        (post.book.get_absolute_url(), ".reviews"),
        (post.get_absolute_url(), ".like-form"),
    ):
        page.goto(live_server.url + url)
        assert page.locator(selector).count() == 1
        results = axe.run(page, context=selector)
        assert results.violations_count == 0, results.generate_report()
