"""Steps of what a person does on the site, shared by the browser tests.

Each step takes a Playwright page and works with or without JavaScript. New features add
a step here and one line in the flow (see test_flows.py: FLOW_STEPS).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from playwright.sync_api import Page, expect

from bookshare.testing.worker import wait_until

PASSWORD = "a-long-reading-list-77"


@dataclass
class Reader:
    username: str
    email: str
    password: str = PASSWORD


@dataclass
class Book:
    title: str
    authors: str
    typo_query: str  # what a hurried person types to find it
    genre: str = "Science fiction"
    location: str = "Leeds"


def open_menu(page: Page) -> None:
    """On a narrow screen the navigation is folded into a "Menu" (a <details>)."""
    summary = page.locator("details.site-menu > summary")
    if summary.is_visible() and page.locator("details.site-menu[open]").count() == 0:
        summary.click()


def nav(page: Page, name: str):
    open_menu(page)
    return page.get_by_role("navigation", name=name)


def register(page: Page, reader: Reader, smtp) -> None:
    page.goto("/")
    nav(page, "Account").get_by_role("link", name="Join").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Join")
    page.get_by_label("Email").fill(reader.email)
    page.get_by_label("Username").fill(reader.username)
    page.get_by_label("Password:", exact=True).fill(reader.password)
    page.get_by_label("Password again").fill(reader.password)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your email address")


def code_from_sink(smtp, email: str) -> str:
    received = wait_until(
        lambda: [m for m in smtp.for_address(email) if m.code],
        timeout=30,
        message=f"a sign-up code for {email}",
    )
    return received[-1].code


def verify(page: Page, reader: Reader, smtp) -> None:
    page.get_by_label("6-digit code").fill(code_from_sink(smtp, reader.email))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status").first).to_contain_text("Your email address is confirmed")
    expect(nav(page, "Account")).to_contain_text(reader.username)


def share(page: Page, book: Book) -> str:
    """Share `book`; returns the post page's path."""
    nav(page, "Main").get_by_role("link", name="Share a book").click()
    page.get_by_label("Title:", exact=True).fill(book.title)
    page.get_by_label("Author(s)").fill(book.authors)
    # Genres are folded away with the other optional details (<details>, no script needed).
    page.locator("summary", has_text="Genres and a photo of the cover").click()
    page.get_by_label(book.genre, exact=True).check()
    page.get_by_label("Location").fill(book.location)
    page.get_by_role("button", name="Share it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(book.title)
    return page.url


def find_by_search(page: Page, book: Book) -> None:
    """Search with a typo until the search worker has indexed the post, then open it."""
    deadline = time.monotonic() + 30
    while True:
        page.goto("/")
        box = page.get_by_role("search", name="Site").get_by_role("searchbox")
        box.fill(book.typo_query)
        box.press("Enter")
        hit = page.locator("ol.results").get_by_role("link", name=book.title)
        if hit.count() or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    expect(page.get_by_role("status").first).to_contain_text("result")
    hit.first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(book.title)


def like(page: Page) -> None:
    """On the post page: like it (htmx swaps the button in place; without scripts the form
    posts and the page comes back)."""
    page.get_by_role("button", name="Like this post").click()
    expect(page.get_by_role("button", name="Liked this post")).to_be_visible()
    expect(page.locator(".like-count")).to_have_text("1 like")
    page.reload()  # it was stored, not only drawn
    expect(page.get_by_role("button", name="Liked this post")).to_have_attribute(
        "aria-pressed", "true"
    )


def want_to_read(page: Page) -> None:
    """On the post page: add the book to the reader's Want to read list."""
    page.get_by_role("button", name="Want to read", exact=True).click()
    status = page.locator(".reading-status")
    expect(status).to_contain_text("Your reading status: Want to read")
    page.reload()  # stored, not only drawn
    expect(page.locator(".reading-status")).to_contain_text("Want to read")
    expect(page.get_by_role("button", name="✓ Want to read")).to_have_attribute(
        "aria-pressed", "true"
    )


def sign_out(page: Page, reader: Reader) -> None:
    nav(page, "Account").get_by_role("button", name="Sign out").click()
    expect(nav(page, "Account")).not_to_contain_text(reader.username)
    expect(nav(page, "Account").get_by_role("link", name="Sign in")).to_be_visible()


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    expect(nav(page, "Account")).to_contain_text(username)
