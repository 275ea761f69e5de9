"""A newcomer's first visit, in a real browser, with and without JavaScript."""

from __future__ import annotations

import uuid

import pytest

from . import flows

pytestmark = pytest.mark.django_db(transaction=True)

# The flow, in order. Steps for liking a book and adding it to "Want to read" join here
# once those features are on main (each a function in flows.py).
FLOW_STEPS = [
    flows.register,
    flows.verify,
    "share",
    "find",
    # flows.like, flows.want_to_read — when reactions and lists land
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
        elif step == "sign_out":
            flows.sign_out(page, reader)
        else:
            step(page, reader, smtp_sink)
