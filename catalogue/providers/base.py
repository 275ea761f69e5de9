"""The small interface every provider implements, and what they return."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .http import ProviderClient, ProviderError


@dataclass
class BookData:
    """What a provider knows about an edition. Empty values are unknown."""

    source: str
    title: str = ""
    subtitle: str = ""
    authors: list[str] = field(default_factory=list)
    publisher: str = ""
    year: int | None = None
    pages: int | None = None
    description: str = ""
    subjects: list[str] = field(default_factory=list)
    cover_url: str = ""
    language: str = ""
    link: str = ""

    def merge(self, other: BookData) -> BookData:
        """Fill what this one lacks from `other` (this one wins where both know)."""
        for name in (
            "title",
            "subtitle",
            "publisher",
            "year",
            "pages",
            "description",
            "cover_url",
            "language",
            "link",
        ):
            if not getattr(self, name) and getattr(other, name):
                setattr(self, name, getattr(other, name))
        if not self.authors:
            self.authors = list(other.authors)
        seen = {s.lower() for s in self.subjects}
        self.subjects += [s for s in other.subjects if s.lower() not in seen]
        return self


class Kind:
    PRICE = "price"
    BORROW = "borrow"
    NONE = "none"


class Condition:
    NEW = "new"
    USED = "used"
    EBOOK = "ebook"
    BORROW = "borrow"


@dataclass
class Offer:
    """One provider's answer to "where can I get this book": a price, a loan, or none."""

    provider: str
    kind: str
    condition: str = ""
    amount: Decimal | None = None
    currency: str = ""
    url: str = ""
    reason: str = ""  # a key of http.REASONS when kind is NONE


class Provider:
    """A catalogue or shop. Subclasses set `name`, `label` and implement what they can."""

    name = ""
    label = ""
    per_second = 0.0

    def __init__(self, *, base_url: str, fast: bool = False):
        from django.conf import settings

        from .http import default_limits

        self.base_url = base_url
        self.client = ProviderClient(
            name=self.name,
            base_url=base_url,
            headers=self.headers(),
            limits=default_limits(fast=fast),
            per_second=float(settings.CATALOGUE_RATE_LIMITS.get(self.name, self.per_second)),
        )

    @classmethod
    def configured(cls) -> bool:
        return bool(cls.url_setting())

    @classmethod
    def url_setting(cls) -> str:
        raise NotImplementedError

    def headers(self) -> dict:
        return {}

    def lookup(self, isbn13: str) -> BookData | None:
        """The edition's details, None when the provider does not know it."""
        return None

    def offer(self, isbn13: str) -> Offer:
        """A price or loan for this ISBN (kind NONE with a reason when there is none)."""
        return Offer(provider=self.name, kind=Kind.NONE, reason="not_for_sale")


# -- small parsing helpers ------------------------------------------------------------------
_YEAR = re.compile(r"\b(1[4-9]\d\d|20\d\d|2100)\b")


def year_from(value) -> int | None:
    match = _YEAR.search(str(value or ""))
    return int(match.group(1)) if match else None


def text(value, limit: int) -> str:
    if isinstance(value, dict):  # Open Library's {"type": "/type/text", "value": "..."}
        value = value.get("value", "")
    return " ".join(str(value or "").split())[:limit] if not isinstance(value, list) else ""


def positive_int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 100_000 else None


def money(value) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    if not amount.is_finite() or amount < 0 or amount > 100_000:
        return None
    return amount.quantize(Decimal("0.01"))


def safe_link(value) -> str:
    link = str(value or "")
    return link[:500] if link.startswith(("https://", "http://")) else ""


def as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value) -> list:
    return value if isinstance(value, list) else []


__all__ = ["BookData", "Condition", "Kind", "Offer", "Provider", "ProviderError"]
