"""`reverse()` for URLs printed many times a page: resolved once per process, then reused.

`reverse()` costs 50-110 µs a call. The site header and footer print about fifteen
fixed URLs on every page, and a list page one or two per row. `url(name)` caches the
URL of a pattern without arguments; `url_for_pk(name, pk)` resolves a `<int:pk>` pattern
once with a marker and fills in the pk by formatting. Both are keyed by the script
prefix and URLconf in use, so a change of either resolves again.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

_MARK = "2147480001"


def _where() -> tuple[str, str]:
    return get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF


@functools.lru_cache(maxsize=512)
def _plain(name: str, prefix: str, urlconf: str) -> str:
    return reverse(name)


@functools.lru_cache(maxsize=512)
def _split(name: str, prefix: str, urlconf: str) -> tuple[str, str]:
    head, found, tail = reverse(name, kwargs={"pk": int(_MARK)}).partition(_MARK)
    if not found or _MARK in tail:
        raise ValueError(f"{name} does not take a single pk")
    return head, tail


def url(name: str) -> str:
    """`reverse(name)` for a pattern without arguments, cached."""
    return _plain(name, *_where())


def url_for_pk(name: str, pk: int) -> str:
    """`reverse(name, kwargs={"pk": pk})`, cached per pattern."""
    head, tail = _split(name, *_where())
    return f"{head}{int(pk)}{tail}"
