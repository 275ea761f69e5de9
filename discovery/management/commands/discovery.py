"""`python manage.py discovery rebuild | rebase | stats`."""

from django.core.management.base import BaseCommand, CommandError

from books.management.progress import ProgressBar
from discovery import rebuild, trending
from discovery.models import BookPair, Recommendation, Signal, Trending


class Command(BaseCommand):
    help = (
        "Discovery read models: `rebuild` recomputes trending, co-occurrence and every "
        "member's recommendations from the signal log; `rebase` moves the trending epoch "
        "to now (beat does this daily); `stats` shows sizes."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rebuild", "rebase", "stats"])
        parser.add_argument(
            "--batch-size", type=int, default=200, help="members per transaction (default 200)"
        )
        parser.add_argument(
            "--from-log",
            action="store_true",
            help="rebuild from discovery's signal log as it is, without re-reading list "
            "items, likes, reviews and posts",
        )

    def handle(self, *args, action, batch_size, from_log, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if action == "stats":
            self.stdout.write(
                f"{Signal.objects.count()} signals, {BookPair.objects.count()} pairs, "
                f"{Trending.objects.count()} trending books, "
                f"{Recommendation.objects.count()} recommendations"
            )
            return
        if action == "rebase":
            scale = trending.rebase()
            self.stdout.write(self.style.SUCCESS(f"trending rebased (scores × {scale:.4g})"))
            return
        if not from_log:
            signals = rebuild.rebuild_signals()
            self.stdout.write(f"signal log: {signals} from list items, likes, reviews, posts")
        books = rebuild.rebuild_trending()
        self.stdout.write(f"trending: {books} books")
        bar = ProgressBar(self.stdout, "co-occurrence")
        members = rebuild.rebuild_baskets(batch_size=batch_size, progress=bar)
        bar.finish()
        bar = ProgressBar(self.stdout, "recommendations")
        refreshed = rebuild.rebuild_recommendations(progress=bar)
        bar.finish()
        self.stdout.write(
            self.style.SUCCESS(
                f"discovery rebuilt: {books} trending books, {members} members' baskets, "
                f"{refreshed} members' recommendations"
            )
        )
