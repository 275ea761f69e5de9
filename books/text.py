"""Text normalisation shared by book matching, search and suggestions."""

from __future__ import annotations

import re
import unicodedata

_WORD_RE = re.compile(r"\w+", re.UNICODE)
_SPACE_RE = re.compile(r"\s+")

# Words too common to tell books apart (English, plus a few catalogue words).
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "he",
        "her",
        "his",
        "i",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "she",
        "so",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "will",
        "with",
        "you",
        "your",
        "not",
        "no",
        "all",
        "any",
        "can",
        "do",
        "does",
        "did",
        "than",
        "too",
        "very",
        "just",
        "about",
        "over",
        "after",
        "before",
        "out",
        "up",
        "down",
        "book",
        "books",
        "edition",
        "vol",
        "volume",
    ]
)


def strip_accents(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize(value: str) -> str:
    """Lower case, accents removed, punctuation dropped, single spaces: a matching key."""
    value = strip_accents(value or "").casefold()
    return " ".join(_WORD_RE.findall(value.replace("_", " ")))


def words(value: str) -> list[str]:
    """Normalised words of `value`, in order."""
    return normalize(value).split()


def squash_spaces(value: str) -> str:
    return _SPACE_RE.sub(" ", value or "").strip()


def content_words(value: str, *, min_length: int = 3) -> list[str]:
    """Normalised words that carry meaning: no stop words, no short tokens, no numbers."""
    return [
        w
        for w in words(value)
        if len(w) >= min_length and w not in STOPWORDS and not w.isdigit() and len(w) <= 40
    ]


def damerau_levenshtein(a: str, b: str, *, limit: int = 3) -> int:
    """Edit distance with adjacent transpositions; stops early once above `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]
