"""axe-core on every main page, at desktop and phone widths: no critical or serious
violations. axe comes from axe-playwright-python's bundled axe.min.js (no network)."""

from __future__ import annotations

import json

import pytest

from . import flows
from .conftest import DESKTOP, MOBILE
from .site import make_shelf
from .stack import ARTIFACTS

pytestmark = pytest.mark.django_db(transaction=True)

BLOCKING = {"critical", "serious"}


def axe_violations(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    return Axe().run(page).response["violations"]


def public_pages(shelf) -> dict[str, str]:
    return {
        "home": "/",
        "search": "/search/",
        "search results": "/search/?q=left+hand",
        "search corrected": "/search/?q=ursula+le+gwin",
        "search nothing": "/search/?q=zzzzqqq",
        "genre": shelf.genre_url,
        "book": shelf.book_url,
        "book's public lists": f"{shelf.book_url.rstrip('/')}/lists/",
        "trending": "/trending/",
        "post": shelf.post_url,
        "profile": f"/u/{shelf.member}/",
        "sign in": "/accounts/login/",
        "join": "/accounts/register/",
        "password reset": "/accounts/password/reset/",
        "about": "/about/",
        "how sharing works": "/how-sharing-works/",
        "privacy": "/privacy/",
        "terms": "/terms/",
        "contact": "/contact/",
        "not found": "/posts/999999/",
    }


def member_pages() -> dict[str, str]:
    return {
        "share a book": "/posts/new/",
        "my lists": "/lists/",
        "library import": "/lists/import/",
        "notifications": "/notifications/",
        "notification settings": "/notifications/settings/",
        "for you": "/for-you/",
        "event bus (staff)": "/ops/events/",
    }


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "390px"])
def test_main_pages_have_no_serious_accessibility_violations(open_page, viewport):
    shelf = make_shelf()
    page = open_page(viewport=viewport)
    report: dict[str, dict[str, int]] = {}
    blocking: dict[str, list[str]] = {}

    def check(name: str, url: str) -> None:
        page.goto(url)
        counts: dict[str, int] = {}
        for violation in axe_violations(page):
            impact = violation.get("impact") or "minor"
            counts[impact] = counts.get(impact, 0) + len(violation["nodes"])
            if impact in BLOCKING:
                targets = [n["target"] for n in violation["nodes"]][:3]
                blocking.setdefault(name, []).append(f"{violation['id']} ({impact}) {targets}")
        report[name] = counts

    for name, url in public_pages(shelf).items():
        check(name, url)
    flows.sign_in(page, shelf.staff, shelf.password)
    for name, url in member_pages().items():
        check(name, url)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    label = "desktop" if viewport == DESKTOP else "mobile"
    (ARTIFACTS / f"axe-{label}.json").write_text(json.dumps(report, indent=2, sort_keys=True))
    assert not blocking, json.dumps(blocking, indent=2)
