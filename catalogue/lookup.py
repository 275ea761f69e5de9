"""The post form's ISBN lookup: what we know about an ISBN, merged into the form's data.

Used both by the htmx request made as soon as the ISBN is complete and by the form's
"Look up" button (no scripts). Never waits on providers longer than
CATALOGUE_LOOKUP_TIMEOUT; whatever happens the member can type the details.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.http import QueryDict

from accounts.ratelimit import hit
from books.isbn import _clean, to_isbn13
from books.models import Book, Language

from . import jobs
from .providers import REASONS, BookData


@dataclass
class Lookup:
    # "", "incomplete", "invalid", "known", "found", "not_found", "down", "limited"
    status: str = ""
    message: str = ""
    retry_after: int = 0  # "limited": seconds until the member may look up again
    isbn13: str = ""
    book: Book | None = None
    data: BookData | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def details_known(self) -> bool:
        return self.status in ("known", "found")


def lookup_isbn(raw: str, *, member=None) -> Lookup:
    """What we know about the ISBN in `raw`. With `member`, lookups that would ask the
    providers count against the member's limit (ACCOUNTS_RATE_LIMITS["isbn_lookup"]);
    incomplete, mistyped and already known ISBNs are free."""
    cleaned = _clean(raw or "")
    if not cleaned:
        return Lookup()
    if len(cleaned) not in (10, 13):
        return Lookup(status="incomplete")
    try:
        isbn13 = to_isbn13(cleaned)
    except ValidationError as exc:
        return Lookup(status="invalid", message=exc.messages[0])
    book = Book.objects.filter(isbn13=isbn13).prefetch_related("credits__author").first()
    if book is not None:
        return Lookup(status="known", isbn13=isbn13, book=book)
    if member is not None:
        retry_after = hit(scope="isbn_lookup", key=f"member:{member.pk}")
        if retry_after:
            minutes = max(1, math.ceil(retry_after / 60))
            return Lookup(
                status="limited",
                isbn13=isbn13,
                retry_after=retry_after,
                message="You have looked up many ISBNs in a short time. Please type the title "
                f"and author (you can share straight away), or look it up again in about "
                f"{minutes} minute{'s' if minutes != 1 else ''}.",
            )
    gathered = jobs.lookup_for_form(isbn13)
    problems = [
        f"{label} {REASONS.get(reason, REASONS['unavailable'])}."
        for label, reason in sorted(gathered.problems.items())
    ]
    if gathered.data is not None and gathered.data.title:
        return Lookup(status="found", isbn13=isbn13, data=gathered.data, problems=problems)
    if gathered.all_failed or not gathered.asked:
        return Lookup(
            status="down",
            isbn13=isbn13,
            problems=problems,
            message="We could not reach the book catalogues just now. Please type the title "
            "and author; you can share straight away.",
        )
    return Lookup(
        status="not_found",
        isbn13=isbn13,
        problems=problems,
        message="The catalogues don't know this ISBN. Please type the title and author.",
    )


def merge_into(data: QueryDict, lookup: Lookup) -> QueryDict:
    """The form's data with what the lookup found filled in. A field the member typed is
    kept, unless it came from an earlier lookup of another ISBN (`looked_up`)."""
    merged = data.copy()
    found = lookup.data
    if lookup.status != "found" or found is None:
        return merged
    refill = merged.get("looked_up", "") not in ("", lookup.isbn13)
    values = {
        "title": found.title,
        "subtitle": found.subtitle,
        "authors": "; ".join(found.authors),
        "publisher": found.publisher,
        "year": str(found.year or ""),
        "description": found.description,
        "cover_url": found.cover_url,
    }
    if found.language in Language.values:
        values["language"] = found.language
    for name, value in values.items():
        if value and (refill or not merged.get(name, "").strip() or name == "language"):
            merged[name] = value
    merged["looked_up"] = lookup.isbn13
    return merged
