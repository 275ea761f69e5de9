# ruff: noqa: S608 - SQL built from this module's own constant identifiers; values are parameters.
"""One search interface, one implementation per database vendor.

Both read only the index tables (SearchEntry, and the vendor's full-text structures that
triggers keep in step with it) and return SearchEntry rows, best first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import DatabaseError, connection

from books.models import SearchEntry

from .query import ParsedQuery, to_fts5, to_pg_tsquery
from .schema import FILTER_MARK, PG_CONFIG, SQLITE_FTS, SQLITE_TERMS

# Ranking and counting stop after this many matches ("1,000+ results").
RANK_CANDIDATES = 1000
MAX_COUNT = 1000

_TOKEN_VALUE = re.compile(r"[A-Za-z0-9_-]{1,50}")


@dataclass(frozen=True)
class Filters:
    status: str | None = "available"
    offer: str | None = None
    language: str | None = None
    genre: str | None = None  # a genre slug

    def apply(self, qs):
        if self.status:
            qs = qs.filter(status=self.status)
        if self.offer:
            qs = qs.filter(offer=self.offer)
        if self.language:
            qs = qs.filter(language=self.language)
        if self.genre:
            qs = qs.filter(genre_slugs__contains=f"|{self.genre}|")
        return qs

    def sql(self, alias: str) -> tuple[str, list]:
        clauses, params = [], []
        for name in ("status", "offer", "language"):
            value = getattr(self, name)
            if value:
                clauses.append(f"{alias}.{name} = %s")
                params.append(value)
        if self.genre:
            clauses.append(f"{alias}.genre_slugs LIKE %s")
            params.append(f"%|{self.genre}|%")
        return "".join(f" AND {c}" for c in clauses), params

    def tokens(self) -> list[str]:
        """The filter values as the PostgreSQL document's filter lexemes (schema.py). A
        value that is not a plain slug gets no token; its column filter still applies."""
        values = [
            ("status", self.status),
            ("offer", self.offer),
            ("language", self.language),
            ("genre", self.genre),
        ]
        return [
            f"{FILTER_MARK}{name}:{value}"
            for name, value in values
            if value and _TOKEN_VALUE.fullmatch(value)
        ]


class SearchBackend:
    vendor = ""

    def count(self, parsed: ParsedQuery, filters: Filters, *, limit: int | None = None) -> int:
        """Matches, counting at most `limit` of them."""
        raise NotImplementedError

    def results(
        self, parsed: ParsedQuery, filters: Filters, *, offset: int, limit: int
    ) -> list[SearchEntry]:
        raise NotImplementedError

    def term_candidates(self, word: str, *, limit: int = 30) -> list[str]:
        """Vocabulary words that look like `word` (for spelling suggestions)."""
        raise NotImplementedError


class PostgresBackend(SearchBackend):
    """Weighted tsvector (A title+authors, B genres, C description, D note+location, plus
    filter tokens) with a GIN index; ts_rank with weights; prefix via `:*`; pg_trgm for
    spelling.

    Ranking reads every candidate's document from the heap, so it is bounded: the best
    results are chosen among the first RANK_CANDIDATES matches of the index scan (plus
    every exact-title match). Only very common queries (more matches than that) are
    affected. Counting (up to MAX_COUNT + 1) and ranking share that one scan; a page then
    reads its entries by primary key.
    """

    vendor = "postgresql"
    # ts_rank weights in the order D, C, B, A.
    WEIGHTS = "{0.05, 0.2, 0.4, 1.0}"

    def _where(self, parsed: ParsedQuery, filters: Filters, alias: str) -> tuple[str, list]:
        # The filters go into the GIN condition as the document's filter tokens (the
        # column conditions stay, as a check). Without them a query matching thousands of
        # entries read each one from the heap to test its columns.
        extra, params = filters.sql(alias)
        tokens = filters.tokens()
        if not tokens:
            return (
                f"{alias}.document @@ to_tsquery('{PG_CONFIG}', %s){extra}",
                [to_pg_tsquery(parsed), *params],
            )
        return (
            f"{alias}.document @@ (to_tsquery('{PG_CONFIG}', %s) && %s::tsquery){extra}",
            [to_pg_tsquery(parsed), " & ".join(f"'{t}'" for t in tokens), *params],
        )

    def __init__(self):
        # (tsquery, filters) -> (post ids best first, matches counted, count limit): the
        # page counts and then slices one SearchResults, both from one index scan.
        self._ranked: dict[tuple, tuple[list[int], int, int]] = {}

    def ranked(self, parsed: ParsedQuery, filters: Filters, *, count_limit: int):
        """The candidates' ids, best first, and the number of matches counted up to
        `count_limit`, from one scan: the first RANK_CANDIDATES matches of the scan are
        ranked (with every exact-title match), the rest of it only counted."""
        key = (to_pg_tsquery(parsed), filters)
        if key not in self._ranked or self._ranked[key][2] < count_limit:
            count_limit = max(count_limit, MAX_COUNT + 1)
            where, params = self._where(parsed, filters, "m")
            rank = f"ts_rank('{self.WEIGHTS}', m.document, to_tsquery('{PG_CONFIG}', %s))"
            sql = (
                "WITH matched AS MATERIALIZED ("
                f"SELECT m.post_id, m.created_at, m.title_key = %s AS exact, {rank} AS rank, "
                f"row_number() OVER () AS n FROM books_searchentry m WHERE {where} LIMIT %s), "
                "candidates AS ("
                "(SELECT post_id, exact, rank, created_at FROM matched WHERE n <= %s) UNION "
                f"(SELECT m.post_id, true, {rank}, m.created_at FROM books_searchentry m "
                f"WHERE m.title_key = %s AND {where} LIMIT 50)) "
                "SELECT post_id, (SELECT count(*) FROM matched) FROM candidates "
                "ORDER BY exact DESC, rank DESC, created_at DESC, post_id DESC"
            )
            text = to_pg_tsquery(parsed)
            args = [
                parsed.key,
                text,
                *params,
                max(count_limit, RANK_CANDIDATES),
                RANK_CANDIDATES,
                text,
                parsed.key,
                *params,
            ]
            with connection.cursor() as cursor:
                cursor.execute(sql, args)
                rows = cursor.fetchall()
            self._ranked[key] = ([r[0] for r in rows], rows[0][1] if rows else 0, count_limit)
        ids, count, _ = self._ranked[key]
        return ids, min(count, count_limit)

    def count(self, parsed, filters, *, limit=None):
        if limit:
            return self.ranked(parsed, filters, count_limit=limit)[1]
        where, params = self._where(parsed, filters, "e")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM books_searchentry e WHERE {where}", params)
            return cursor.fetchone()[0]

    def results(self, parsed, filters, *, offset, limit):
        ids = self.ranked(parsed, filters, count_limit=MAX_COUNT + 1)[0][offset : offset + limit]
        rows = SearchEntry.objects.in_bulk(ids)
        return [rows[i] for i in ids if i in rows]

    def term_candidates(self, word, *, limit=30):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT word FROM books_searchterm WHERE word %% %s "
                "ORDER BY similarity(word, %s) DESC, word LIMIT %s",
                [word, word, limit],
            )
            return [row[0] for row in cursor.fetchall()]


class SqliteBackend(SearchBackend):
    """FTS5 (porter stemmer, diacritics removed) ranked by bm25 with column weights; a
    trigram FTS5 table over the vocabulary for spelling."""

    vendor = "sqlite"
    # bm25 column weights: title, authors, genres, description, note (higher = more).
    BM25 = "bm25(" + SQLITE_FTS + ", 10.0, 10.0, 4.0, 1.0, 0.5)"

    def _where(self, parsed: ParsedQuery, filters: Filters) -> tuple[str, list]:
        extra, params = filters.sql("e")
        return f"{SQLITE_FTS} MATCH %s{extra}", [to_fts5(parsed), *params]

    def count(self, parsed, filters, *, limit=None):
        where, params = self._where(parsed, filters)
        sql = (
            f"SELECT 1 FROM {SQLITE_FTS} JOIN books_searchentry e "
            f"ON e.post_id = {SQLITE_FTS}.rowid WHERE {where}"
        )
        if limit:
            sql, params = f"{sql} LIMIT %s", [*params, limit]
        sql = f"SELECT count(*) FROM ({sql})"
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchone()[0]
        except DatabaseError:  # a query FTS5 refuses: treat as no match
            return 0

    def results(self, parsed, filters, *, offset, limit):
        where, params = self._where(parsed, filters)
        sql = (
            f"SELECT e.*, {self.BM25} AS rank, (e.title_key = %s) AS exact "
            f"FROM {SQLITE_FTS} JOIN books_searchentry e ON e.post_id = {SQLITE_FTS}.rowid "
            f"WHERE {where} ORDER BY exact DESC, rank, e.created_at DESC, e.post_id DESC "
            "LIMIT %s OFFSET %s"
        )
        try:
            return list(SearchEntry.objects.raw(sql, [parsed.key, *params, limit, offset]))
        except DatabaseError:
            return []

    def term_candidates(self, word, *, limit=30):
        grams = {word[i : i + 3] for i in range(len(word) - 2)}
        if not grams:
            return []
        match = " OR ".join('"' + g.replace('"', "") + '"' for g in sorted(grams))
        sql = (
            f"SELECT t.word FROM {SQLITE_TERMS} JOIN books_searchterm t ON t.id = "
            f"{SQLITE_TERMS}.rowid WHERE {SQLITE_TERMS} MATCH %s ORDER BY rank LIMIT %s"
        )
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, [match, limit])
                return [row[0] for row in cursor.fetchall()]
        except DatabaseError:
            return []


_BACKENDS = {"postgresql": PostgresBackend, "sqlite": SqliteBackend}


def get_backend() -> SearchBackend:
    try:
        return _BACKENDS[connection.vendor]()
    except KeyError:
        raise NotImplementedError(f"no search backend for {connection.vendor}") from None
