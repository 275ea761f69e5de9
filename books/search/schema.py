# ruff: noqa: S608 - SQL built from this module's own constant identifiers; values are parameters.
"""Vendor-specific parts of the search index: SQL run by migrations and by
`manage.py search reindex` (which re-creates anything missing, e.g. SQLite triggers that a
table rebuild dropped)."""

from __future__ import annotations

# -- PostgreSQL -------------------------------------------------------------------------
# A text search configuration: English stemming with accents removed first, so
# "Émile" finds "emile" and "running" finds "run".
PG_CONFIG = "bookshare_search"

# Filter values are also lexemes of the document ("~status:available", "~offer:give",
# "~language:en", "~genre:<slug>"), so the GIN index applies the filters together with
# the words. Query words are \w+ only, so no word or prefix of the search box can match
# a token that starts with this mark.
FILTER_MARK = "~"

PG_FORWARD = [
    f"""
    DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '{PG_CONFIG}') THEN
        CREATE TEXT SEARCH CONFIGURATION {PG_CONFIG} (COPY = english);
        ALTER TEXT SEARCH CONFIGURATION {PG_CONFIG}
          ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;
      END IF;
    END $$;
    """,
    # Weighted document: title, subtitle and authors A; genres B; description C;
    # note and location D; plus one position-less filter token per filter value
    # (see FILTER_MARK). Filled on every insert and update of an entry.
    f"""
    CREATE OR REPLACE FUNCTION books_searchentry_document() RETURNS trigger AS $$
    BEGIN
      NEW.document :=
        setweight(to_tsvector('{PG_CONFIG}', coalesce(NEW.title, '') || ' ' ||
                  coalesce(NEW.subtitle, '') || ' ' || coalesce(NEW.authors, '')), 'A') ||
        setweight(to_tsvector('{PG_CONFIG}', coalesce(NEW.genres, '')), 'B') ||
        setweight(to_tsvector('{PG_CONFIG}', coalesce(NEW.description, '')), 'C') ||
        setweight(to_tsvector('{PG_CONFIG}', coalesce(NEW.note, '') || ' ' ||
                  coalesce(NEW.location, '')), 'D') ||
        array_to_tsvector(ARRAY[
          '{FILTER_MARK}status:' || NEW.status,
          '{FILTER_MARK}offer:' || NEW.offer,
          '{FILTER_MARK}language:' || NEW.language
        ] || ARRAY(
          SELECT '{FILTER_MARK}genre:' || slug
          FROM unnest(string_to_array(NEW.genre_slugs, '|')) AS slug WHERE slug <> ''
        ));
      RETURN NEW;
    END $$ LANGUAGE plpgsql;
    """,
    "DROP TRIGGER IF EXISTS books_searchentry_document ON books_searchentry;",
    """
    CREATE TRIGGER books_searchentry_document
      BEFORE INSERT OR UPDATE ON books_searchentry
      FOR EACH ROW EXECUTE FUNCTION books_searchentry_document();
    """,
    # No fast update: with a pending list (filled by inserts until a vacuum merges it)
    # every search scanned it, and the planner, costing it, chose sequential scans.
    "CREATE INDEX IF NOT EXISTS books_searchentry_document_gin "
    "ON books_searchentry USING gin (document) WITH (fastupdate = off);",
    "ALTER INDEX books_searchentry_document_gin SET (fastupdate = off);",
    "CREATE INDEX IF NOT EXISTS books_searchentry_title_trgm "
    "ON books_searchentry USING gin (title_key gin_trgm_ops);",
    # GiST, not GIN: for `word % 'x'` the planner skipped the GIN index and scanned the
    # whole vocabulary (10 ms at 11,000 words), and chose it for `word IN (...)` (18 ms).
    "DROP INDEX IF EXISTS books_searchterm_word_trgm;",
    "CREATE INDEX IF NOT EXISTS books_searchterm_word_trgm_gist "
    "ON books_searchterm USING gist (word gist_trgm_ops);",
]

PG_BACKWARD = [
    "DROP INDEX IF EXISTS books_searchterm_word_trgm_gist;",
    "DROP INDEX IF EXISTS books_searchterm_word_trgm;",
    "DROP INDEX IF EXISTS books_searchentry_title_trgm;",
    "DROP INDEX IF EXISTS books_searchentry_document_gin;",
    "DROP TRIGGER IF EXISTS books_searchentry_document ON books_searchentry;",
    "DROP FUNCTION IF EXISTS books_searchentry_document();",
    f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {PG_CONFIG};",
]

# -- SQLite -----------------------------------------------------------------------------
# FTS5 with the Porter stemmer over unicode61 (diacritics removed); rowid = post_id.
# Columns in weight order for bm25(): title (+subtitle), authors, genres, description, note.
SQLITE_FTS = "books_search_fts"
SQLITE_TERMS = "books_searchterm_trgm"
_FTS_VALUES = (
    "new.post_id, new.title || ' ' || new.subtitle, new.authors, new.genres, "
    "new.description, new.note || ' ' || new.location"
)

SQLITE_FORWARD = [
    f"""
    CREATE VIRTUAL TABLE IF NOT EXISTS {SQLITE_FTS} USING fts5(
      title, authors, genres, description, note,
      tokenize = 'porter unicode61 remove_diacritics 2'
    );
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS books_searchentry_ai AFTER INSERT ON books_searchentry BEGIN
      INSERT INTO {SQLITE_FTS}(rowid, title, authors, genres, description, note)
      VALUES ({_FTS_VALUES});
    END;
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS books_searchentry_ad AFTER DELETE ON books_searchentry BEGIN
      DELETE FROM {SQLITE_FTS} WHERE rowid = old.post_id;
    END;
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS books_searchentry_au AFTER UPDATE ON books_searchentry BEGIN
      DELETE FROM {SQLITE_FTS} WHERE rowid = old.post_id;
      INSERT INTO {SQLITE_FTS}(rowid, title, authors, genres, description, note)
      VALUES ({_FTS_VALUES});
    END;
    """,
    # The vocabulary, split into trigrams, for spelling suggestions.
    f"""
    CREATE VIRTUAL TABLE IF NOT EXISTS {SQLITE_TERMS} USING fts5(word, tokenize = 'trigram');
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS books_searchterm_ai AFTER INSERT ON books_searchterm BEGIN
      INSERT INTO {SQLITE_TERMS}(rowid, word) VALUES (new.id, new.word);
    END;
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS books_searchterm_ad AFTER DELETE ON books_searchterm BEGIN
      DELETE FROM {SQLITE_TERMS} WHERE rowid = old.id;
    END;
    """,
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS books_searchterm_ad;",
    "DROP TRIGGER IF EXISTS books_searchterm_ai;",
    f"DROP TABLE IF EXISTS {SQLITE_TERMS};",
    "DROP TRIGGER IF EXISTS books_searchentry_au;",
    "DROP TRIGGER IF EXISTS books_searchentry_ad;",
    "DROP TRIGGER IF EXISTS books_searchentry_ai;",
    f"DROP TABLE IF EXISTS {SQLITE_FTS};",
]


def statements(vendor: str, *, forward: bool = True) -> list[str]:
    if vendor == "postgresql":
        return PG_FORWARD if forward else PG_BACKWARD
    if vendor == "sqlite":
        return SQLITE_FORWARD if forward else SQLITE_BACKWARD
    raise NotImplementedError(f"no search index for database vendor {vendor!r}")


def ensure_schema(connection) -> None:
    """Create whatever part of the vendor's search schema is missing (idempotent)."""
    with connection.cursor() as cursor:
        for sql in statements(connection.vendor):
            cursor.execute(sql)
