"""`python manage.py suggestions rebuild`: recompute every post's similar posts."""

from django.core.management.base import BaseCommand, CommandError

from books import suggestions
from books.management.progress import ProgressBar


class Command(BaseCommand):
    help = "Similar-post suggestions: `rebuild` recomputes features and lists for all posts."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rebuild"])
        parser.add_argument(
            "--batch-size", type=int, default=200, help="posts per transaction (default 200)"
        )

    def handle(self, *args, action, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        bar = ProgressBar(self.stdout, "suggestions")
        total = suggestions.rebuild(batch_size=batch_size, progress=bar)
        bar.finish()
        self.stdout.write(self.style.SUCCESS(f"suggestions rebuilt for {total} posts"))
