"""Safe highlighting: text is HTML-escaped piece by piece, and only our own <mark> tags
are added around words that match the query (same normalisation and stemming-ish
prefix rule on both backends)."""

from __future__ import annotations

import re
from functools import lru_cache

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from books.text import normalize

_WORD_RE = re.compile(r"\w+", re.UNICODE)
_SUFFIXES = ("ings", "ing", "ers", "ies", "ied", "es", "ed", "er", "ly", "s")


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=65536)
def _token_key(token: str) -> str:
    if token.isascii():
        return token.lower().replace("_", "")
    return normalize(token).replace(" ", "")


class Highlighter:
    def __init__(self, terms: list[str], prefixes: list[str] = ()):
        self.stems = {_stem(t) for t in terms if t}
        self.prefixes = {p for p in prefixes if p}
        self._seen: dict[str, bool] = {}

    def _matches(self, token: str) -> bool:
        seen = self._seen.get(token)
        if seen is None:
            seen = self._seen[token] = self._decide(token)
        return seen

    def _decide(self, token: str) -> bool:
        norm = _token_key(token)
        if not norm:
            return False
        if any(norm.startswith(p) for p in self.prefixes):
            return True
        return any(
            norm == stem or (norm.startswith(stem) and len(norm) - len(stem) <= 4)
            for stem in self.stems
        )

    def __bool__(self) -> bool:
        return bool(self.stems or self.prefixes)

    def mark(self, text: str) -> SafeString:
        """`text` escaped, with matching words wrapped in <mark>."""
        text = text or ""
        out: list[str] = []
        last = 0
        for match in _WORD_RE.finditer(text):
            if self._matches(match.group()):
                out.append(escape(text[last : match.start()]))
                out.append("<mark>" + escape(match.group()) + "</mark>")
                last = match.end()
        out.append(escape(text[last:]))
        return mark_safe("".join(out))  # noqa: S308 - every piece above is escaped

    def snippet(self, text: str, *, length: int = 220) -> SafeString:
        """About `length` characters of `text` around its first match, highlighted."""
        text = " ".join((text or "").split())
        if len(text) <= length:
            return self.mark(text)
        start = 0
        for match in _WORD_RE.finditer(text):
            if self._matches(match.group()):
                start = max(0, match.start() - length // 3)
                break
        if start:
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < start + 20 else start
        end = start + length
        if end < len(text):
            space = text.rfind(" ", start, end)
            end = space if space > start + length // 2 else end
        piece = text[start:end]
        prefix = "… " if start > 0 else ""
        suffix = " …" if end < len(text) else ""
        return mark_safe(escape(prefix) + self.mark(piece) + escape(suffix))  # noqa: S308
