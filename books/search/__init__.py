"""Search over book posts: `search_posts()` for the page, `index_posts()` for consumers.

Backends (books/search/backends.py): PostgreSQL full-text + pg_trgm; SQLite FTS5 + a
trigram vocabulary table. Both are driven by the same query parser (query.py) and tested
by the same tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models.functions import Length

from books.isbn import looks_like_isbn
from books.models import SearchEntry, SearchTerm
from books.text import damerau_levenshtein

from .backends import MAX_COUNT, Filters, SearchBackend, get_backend
from .highlight import Highlighter
from .indexing import index_posts, reindex
from .query import ParsedQuery, parse

__all__ = [
    "Filters",
    "SearchResults",
    "book_for_isbn",
    "get_backend",
    "index_posts",
    "parse",
    "reindex",
    "search_posts",
    "spelling_fix",
]


@dataclass
class SearchResults:
    """A lazily counted and sliced result list, for django.core.paginator.Paginator."""

    parsed: ParsedQuery
    filters: Filters
    corrected_from: str | None = None  # the member's words, when we searched a fix instead
    # A spelling fix that was tried and matched nothing either ("did you mean …").
    suggestion: str | None = None
    _count: int | None = field(default=None, repr=False)
    # One backend for the count and the pages (PostgreSQL ranks once for both).
    _backend: SearchBackend = field(default_factory=get_backend, repr=False)

    def count(self) -> int:
        if self._count is None:
            if self.parsed.is_empty:
                self._count = self._browse()[: MAX_COUNT + 1].count()
            else:
                self._count = self._backend.count(self.parsed, self.filters, limit=MAX_COUNT + 1)
        return min(self._count, MAX_COUNT)

    @property
    def capped(self) -> bool:
        """True when there are more matches than are counted and ranked."""
        self.count()
        return self._count > MAX_COUNT

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            raise TypeError("search results are only sliced")
        start = index.start or 0
        stop = index.stop if index.stop is not None else start + 20
        if self.parsed.is_empty:
            rows = list(self._browse().order_by("-created_at", "-post_id")[start:stop])
        else:
            rows = self._backend.results(
                self.parsed, self.filters, offset=start, limit=max(0, stop - start)
            )
        highlighter = self.highlighter()
        for row in rows:
            row.title_html = highlighter.mark(row.title)
            row.authors_html = highlighter.mark(row.authors)
            row.snippet_html = highlighter.snippet(row.description or row.note)
        return rows

    def _browse(self):
        return self.filters.apply(SearchEntry.objects.defer("document"))

    def highlighter(self) -> Highlighter:
        terms = [w for a in self.parsed.positive_atoms if not a.prefix for w in a.words]
        prefixes = [a.words[0] for a in self.parsed.positive_atoms if a.prefix]
        return Highlighter(terms, prefixes)


def book_for_isbn(q: str) -> int | None:
    """The book id when the search box holds nothing but a known ISBN."""
    isbn13 = looks_like_isbn(q)
    if not isbn13:
        return None
    return SearchEntry.objects.filter(isbn13=isbn13).values_list("book_id", flat=True).first()


# Short words share too few trigrams with their misspellings ("gwin" and "guin" share
# none), so words up to this length also look up every one-edit neighbour directly.
EDIT_NEIGHBOUR_MAX_LENGTH = 7


def _one_edit_patterns(word: str) -> set[str]:
    """Patterns (`.` is any one letter) for every word one substitution, insertion,
    deletion or adjacent swap away from `word`. Query words are \\w only (normalised), so
    no other regular-expression character can get in."""
    patterns = set()
    for i in range(len(word) + 1):
        patterns.add(word[:i] + "." + word[i:])  # insertion
        if i < len(word):
            patterns.add(word[:i] + "." + word[i + 1 :])  # substitution
            if len(word) > 3:
                patterns.add(word[:i] + word[i + 1 :])  # deletion
        if i < len(word) - 1:
            patterns.add(word[:i] + word[i + 1] + word[i] + word[i + 2 :])  # swap
    return patterns


def _neighbour_candidates(word: str, limit: int = 30) -> list[str]:
    if not word.isalnum():
        return []
    regex = "^(" + "|".join(sorted(_one_edit_patterns(word))) + ")$"
    return list(
        SearchTerm.objects.filter(word__regex=regex)
        .exclude(word=word)
        .values_list("word", flat=True)[:limit]
    )


def spelling_fix(parsed: ParsedQuery) -> ParsedQuery | None:
    """The query with unknown words replaced by the closest vocabulary words, or None.

    Covers every field in the vocabulary (titles, authors, genres, descriptions, places)
    and the last, partial word, which is completed to the shortest known word it starts.
    Short words also try every vocabulary word one edit away (a scan of the vocabulary,
    only on this path: queries that found fewer than CORRECT_ENOUGH posts)."""
    words = {w for w in parsed.positive_words if len(w) >= 3 and w.isalpha()}
    if not words:
        return None
    known = set(SearchTerm.objects.filter(word__in=words).values_list("word", flat=True))
    backend = get_backend()
    mapping: dict[str, str] = {}
    # A partial last word that starts a known word is completed to the shortest one (the
    # stemmed index may not match the fragment itself: "darknes" vs "dark").
    prefixes = {a.words[0] for a in parsed.positive_atoms if a.prefix}
    for word in (words & prefixes) - known:
        completion = (
            SearchTerm.objects.filter(word__startswith=word)
            .order_by(Length("word"), "word")
            .values_list("word", flat=True)
            .first()
        )
        if completion:
            known.add(word)
            mapping[word] = completion
    for word in sorted(words - known):
        allowed = 1 if len(word) <= 5 else 2
        best: tuple[int, int, str] | None = None
        candidates = backend.term_candidates(word)
        if len(word) <= EDIT_NEIGHBOUR_MAX_LENGTH:
            candidates = [*candidates, *_neighbour_candidates(word)]
        for order, candidate in enumerate(candidates):
            distance = damerau_levenshtein(word, candidate, limit=allowed)
            if distance <= allowed and (best is None or (distance, order) < best[:2]):
                best = (distance, order, candidate)
        if best is not None:
            mapping[word] = best[2]
    if not mapping:
        return None
    return parsed.replace_words(mapping)


# A query that finds something is replaced by its spelling fix only when the fix finds
# at least this many times as much (and at least CORRECT_MIN_GAIN results).
CORRECT_RATIO = 10
CORRECT_MIN_GAIN = 5
# A query finding this many is never second-guessed (and no fix is computed).
CORRECT_ENOUGH = 3


def search_posts(q: str, *, filters: Filters | None = None, correct: bool = True) -> SearchResults:
    """Results for the search box. A spelling fix replaces the member's words only when
    they find nothing, or far less than the fix does; then the fix's results come back
    with `corrected_from` set to what the member typed. `correct=False` searches the
    words as typed ("Search instead for …")."""
    filters = filters or Filters()
    parsed = parse(q)
    results = SearchResults(parsed=parsed, filters=filters)
    if parsed.is_empty or not correct:
        return results
    found = results.count()
    if found >= CORRECT_ENOUGH:
        return results
    fixed = spelling_fix(parsed)
    if fixed is None:
        return results
    alternative = SearchResults(parsed=fixed, filters=filters, corrected_from=parsed.raw)
    better = alternative.count()
    if better and (not found or better >= max(CORRECT_MIN_GAIN, CORRECT_RATIO * found)):
        return alternative
    if not found:
        results.suggestion = fixed.raw
    return results
