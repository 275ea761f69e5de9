"""The post form's ISBN lookup: what we know about an ISBN, merged into the form's data.

Used both by the htmx request made as soon as the ISBN is complete and by the form's
"Look up" button (no scripts). Never waits on providers longer than
CATALOGUE_LOOKUP_TIMEOUT; whatever happens the member can type the details.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.http import QueryDict

from books.isbn import _clean, to_isbn13
from books.models import Book, Language

from . import jobs
from .providers import REASONS, BookData


@dataclass
class Lookup:
    status: str = ""  # "", "incomplete", "invalid", "known", "found", "not_found", "down"
    message: str = ""
    isbn13: str = ""
    book: Book | None = None
    data: BookData | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def details_known(self) -> bool:
        return self.status in ("known", "found")


def lookup_isbn(raw: str) -> Lookup:
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
