"""What a first visitor sees (issue 12): a compact phone header, tables as cards, covers on
every card, search that says what it searched, site pages, a favicon, a branded 404."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from . import flows
from .conftest import MOBILE
from .site import make_shelf

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_phone_header_is_compact_menu_folds_and_tables_become_cards(open_page, js):
    shelf = make_shelf()
    page = open_page(js=js, viewport=MOBILE)
    page.goto(shelf.book_url)
    header = page.locator("header.site-header").bounding_box()
    assert header["height"] <= 0.2 * MOBILE["height"], header
    share = page.get_by_role("navigation", name="Main").get_by_role("link", name="Share a book")
    expect(share).to_be_hidden()
    expect(page.get_by_role("search", name="Site").get_by_role("searchbox")).to_be_visible()
    page.get_by_text("Menu", exact=True).click()
    expect(share).to_be_visible()
    # The copies table: one card per copy, every cell labelled, nothing off-screen.
    cell = page.locator("table.cards-narrow td[data-label='Where']").first
    assert cell.evaluate("td => getComputedStyle(td).display") != "table-cell"
    assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]
    expect(page.locator("table.cards-narrow thead")).not_to_be_in_viewport()


def test_desktop_shows_the_navigation_without_a_menu_button(open_page):
    page = open_page()
    page.goto("/")
    expect(page.get_by_text("Menu", exact=True)).to_be_hidden()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Browse")
    ).to_be_visible()


def test_cards_and_pages_show_a_cover_or_a_placeholder_without_a_gap(open_page):
    shelf = make_shelf()
    page = open_page()
    page.goto("/")
    card = page.locator("article.post-card").filter(has_text="Middlemarch")
    placeholder = card.locator("svg.cover-placeholder")
    expect(placeholder).to_be_visible()
    expect(placeholder).to_contain_text("Middlemarch")
    expect(placeholder).to_contain_text("George Eliot")
    # Cover beside the title, not a blank block above or below it.
    card_box, title_box = card.bounding_box(), card.get_by_role("heading").bounding_box()
    assert title_box["y"] - card_box["y"] < 40
    assert title_box["x"] > card_box["x"] + 50
    page.goto(shelf.book_url)
    expect(page.get_by_role("img", name="Cover of The Left Hand of Darkness")).to_be_visible()
    page.goto("/search/?q=middlemarch")
    expect(page.locator("ol.results svg.cover-placeholder")).to_have_count(1)


def test_search_says_what_it_searched_and_offers_the_original(open_page):
    make_shelf()
    page = open_page()
    page.goto("/search/?q=midlemarch")
    expect(page.locator(".spelling")).to_contain_text("Showing results for middlemarch")
    expect(page.get_by_role("status")).to_have_text("1 result for “middlemarch”")
    page.get_by_role("link", name="midlemarch").click()
    expect(page.get_by_role("heading", name="No books found for “midlemarch”")).to_be_visible()
    expect(page.locator(".spelling")).to_have_count(0)
    # A word that finds books is never "corrected" (Bath is where two books are).
    page.goto("/search/?q=bath")
    expect(page.locator(".spelling")).to_have_count(0)
    expect(page.get_by_role("status")).to_have_text("3 results for “bath”")


def test_site_pages_favicon_and_branded_not_found(open_page):
    page = open_page()
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto("/")
    expect(page.get_by_role("heading", name="How getting a book works")).to_be_visible()
    assert (
        page.evaluate("fetch(document.querySelector('link[rel=icon]').href).then(r => r.status)")
        == 200
    )
    assert missing == []
    footer = page.get_by_role("navigation", name="About BookShare")
    for name in ["About", "How sharing works", "Privacy", "Terms", "Contact"]:
        page.goto("/")
        footer.get_by_role("link", name=name, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert len(page.get_by_role("main").inner_text()) > 300, name
    response = page.goto("/posts/999999/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("We couldn't find that page")
    expect(flows.nav(page, "Main")).to_be_visible()
