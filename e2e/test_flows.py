"""A newcomer's first visit, in a real browser, with and without JavaScript."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from . import flows
from .conftest import MOBILE

pytestmark = pytest.mark.django_db(transaction=True)

# The flow, in order; each step is a function in flows.py.
FLOW_STEPS = [
    flows.register,
    flows.verify,
    "share",
    "find",
    "like",
    "want_to_read",
    "sign_out",
]


@pytest.fixture
def seeded_genres():
    from books.models import Genre

    for name, slug in [("Science fiction", "science-fiction"), ("Fantasy", "fantasy")]:
        Genre.objects.get_or_create(slug=slug, defaults={"name": name})


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_newcomer_registers_shares_finds_and_signs_out(open_page, smtp_sink, seeded_genres, js):
    page = open_page(js=js)
    tag = uuid.uuid4().hex[:6]
    reader = flows.Reader(username=f"reader_{tag}", email=f"reader_{tag}@example.org")
    book = flows.Book(
        title="The Left Hand of Darkness",
        authors="Ursula K. Le Guin",
        typo_query="ursula le gwin left hand",
    )
    for step in FLOW_STEPS:
        if step == "share":
            flows.share(page, book)
        elif step == "find":
            flows.find_by_search(page, book)
        elif step == "like":
            flows.like(page)
        elif step == "want_to_read":
            flows.want_to_read(page)
        elif step == "sign_out":
            flows.sign_out(page, reader)
        else:
            step(page, reader, smtp_sink)


def test_a_mistyped_address_is_corrected_on_the_verify_page(open_page, smtp_sink):
    page = open_page(js=False)
    tag = uuid.uuid4().hex[:6]
    reader = flows.Reader(username=f"typo_{tag}", email=f"typo_{tag}@exmaple.org")
    flows.register(page, reader, smtp_sink)
    page.get_by_label("Correct email address").fill(f"typo_{tag}@example.org")
    page.get_by_role("button", name="Change address and send a code").click()
    expect(page.get_by_role("status").first).to_contain_text(f"typo_{tag}@example.org")
    reader.email = f"typo_{tag}@example.org"
    flows.verify(page, reader, smtp_sink)


def test_registering_again_replaces_an_unverified_account(open_page, smtp_sink):
    tag = uuid.uuid4().hex[:6]
    first = flows.Reader(username=f"again_{tag}", email=f"again_{tag}@exmaple.org")
    flows.register(open_page(), first, smtp_sink)
    # A new browser (the first tab was closed): the same username, the right address.
    page = open_page()
    second = flows.Reader(username=first.username, email=f"again_{tag}@example.org")
    flows.register(page, second, smtp_sink)
    flows.verify(page, second, smtp_sink)


def test_staff_reach_the_event_bus_page_from_the_account_menu(open_page):
    from accounts.tests.factories import PASSWORD, VerifiedUserFactory

    VerifiedUserFactory(username="staffer", is_staff=True, is_superuser=True)
    page = open_page(viewport=MOBILE)
    flows.sign_in(page, "staffer", PASSWORD)
    flows.nav(page, "Account").get_by_role("link", name="Event bus").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Event bus")
    expect(page.get_by_role("region", name="Deliveries")).to_be_visible()
