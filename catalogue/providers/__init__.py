"""Outside catalogues and shops behind one small interface (see base.Provider).

A provider with no base URL (or, for ISBNdb, no key) is off. Every request goes through
http.ProviderClient: timeouts, bounded retries honouring Retry-After, a circuit breaker
shared through the cache, and a refusal to run inside a database transaction.
"""

from __future__ import annotations

from .base import BookData, Condition, Kind, Offer, Provider
from .googlebooks import GoogleBooks
from .http import REASONS, CircuitBreaker, ProviderError, RequestInTransaction
from .isbndb import ISBNdb
from .openlibrary import OpenLibrary

ALL: list[type[Provider]] = [OpenLibrary, GoogleBooks, ISBNdb]


def enabled(*, fast: bool = False) -> list[Provider]:
    """One client per configured provider (`fast`: for a person waiting, no retries)."""
    return [cls(base_url=cls.url_setting(), fast=fast) for cls in ALL if cls.configured()]


def any_enabled() -> bool:
    """Whether any provider is configured (builds no client: the book page asks)."""
    return any(cls.configured() for cls in ALL)


def label(name: str) -> str:
    return next((cls.label for cls in ALL if cls.name == name), name)


__all__ = [
    "ALL",
    "REASONS",
    "BookData",
    "CircuitBreaker",
    "Condition",
    "GoogleBooks",
    "ISBNdb",
    "Kind",
    "Offer",
    "OpenLibrary",
    "Provider",
    "any_enabled",
    "ProviderError",
    "RequestInTransaction",
    "enabled",
    "label",
]
