"""`python manage.py ratings rebuild [--book ID ...]`: recompute books' ratings from the
reviews (what the `reactions.book_rating` consumer does, for every book at once)."""

from django.core.management.base import BaseCommand

from reactions import ratings


class Command(BaseCommand):
    help = "Rating aggregates: `rebuild` recomputes BookRating rows from the review rows."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rebuild"])
        parser.add_argument(
            "--book", type=int, action="append", dest="books", help="only this book (repeatable)"
        )

    def handle(self, *args, action, books, **options):
        done = ratings.rebuild(books)
        self.stdout.write(self.style.SUCCESS(f"{done} book rating(s) recomputed"))
