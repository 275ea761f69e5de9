"""PostgreSQL: filter values become lexemes of the search document ("~status:available",
"~offer:give", "~language:en", "~genre:<slug>") so the GIN index applies the filters.
Replaces the document trigger function and recomputes every document. The vocabulary's
trigram index becomes GiST and the document's GIN index loses its fast-update pending
list. Nothing to do on SQLite (FTS5 keeps filtering on the entry's columns)."""

from django.db import migrations

from books.search.schema import statements


class FilterTokens(migrations.operations.base.Operation):
    reversible = True
    reduces_to_sql = True

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements("postgresql", forward=True):
            schema_editor.execute(sql, params=None)
        # The BEFORE UPDATE trigger recomputes the document from the entry's columns.
        schema_editor.execute("UPDATE books_searchentry SET document = NULL", params=None)
        # The document index now has no fast-update pending list: merge what is there.
        schema_editor.execute(
            "SELECT gin_clean_pending_list('books_searchentry_document_gin'::regclass)",
            params=None,
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        # Older code ignores the filter tokens (they start with a mark no query word has).
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS books_searchterm_word_trgm "
            "ON books_searchterm USING gin (word gin_trgm_ops);",
            params=None,
        )
        schema_editor.execute("DROP INDEX IF EXISTS books_searchterm_word_trgm_gist;", params=None)
        schema_editor.execute(
            "ALTER INDEX books_searchentry_document_gin RESET (fastupdate);", params=None
        )

    def describe(self):
        return "Filter tokens in the PostgreSQL search document; GiST vocabulary index"


class Migration(migrations.Migration):
    dependencies = [
        ("books", "0003_search_index_sql"),
    ]

    operations = [FilterTokens()]
