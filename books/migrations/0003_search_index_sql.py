"""Vendor-specific search schema: pg_trgm/unaccent, a text search configuration, the
document trigger and GIN indexes on PostgreSQL; FTS5 tables and triggers on SQLite."""

from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations

from books.search.schema import statements


class VendorSQL(migrations.operations.base.Operation):
    """Run books.search.schema's statements for the connection's vendor."""

    reversible = True
    reduces_to_sql = True

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        for sql in statements(schema_editor.connection.vendor, forward=True):
            schema_editor.execute(sql, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        for sql in statements(schema_editor.connection.vendor, forward=False):
            schema_editor.execute(sql, params=None)

    def describe(self):
        return "Search index SQL for this database vendor"


class Migration(migrations.Migration):

    dependencies = [
        ("books", "0002_catalogue_posts_and_read_models"),
    ]

    operations = [
        TrigramExtension(),
        UnaccentExtension(),
        VendorSQL(),
    ]
