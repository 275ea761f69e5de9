"""`python manage.py search reindex`: rebuild the search index in batches."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from books import search
from books.management.progress import ProgressBar
from books.models import SearchEntry, SearchTerm
from books.search.schema import ensure_schema


class Command(BaseCommand):
    help = "Search index operations: `reindex` rebuilds it; `stats` shows its size."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["reindex", "stats"])
        parser.add_argument(
            "--batch-size", type=int, default=500, help="posts per transaction (default 500)"
        )

    def handle(self, *args, action, batch_size, **options):
        if action == "stats":
            self.stdout.write(
                f"{SearchEntry.objects.count()} entries, {SearchTerm.objects.count()} "
                f"vocabulary words ({connection.vendor} backend)"
            )
            return
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        ensure_schema(connection)
        bar = ProgressBar(self.stdout, "indexing")
        indexed, removed = search.reindex(batch_size=batch_size, progress=bar)
        bar.finish()
        self.stdout.write(
            self.style.SUCCESS(f"search index rebuilt: {indexed} indexed, {removed} removed")
        )
