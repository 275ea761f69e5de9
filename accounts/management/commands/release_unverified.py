"""`manage.py release_unverified [--days N]`: delete accounts never verified (the daily
beat task does the same), freeing their usernames and addresses."""

from django.core.management.base import BaseCommand

from accounts.services import unverified_release


class Command(BaseCommand):
    help = "Delete accounts whose email was not confirmed within ACCOUNTS_UNVERIFIED_DAYS."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, help="older than this (default: the setting)")

    def handle(self, *, days, **_):
        count = unverified_release(older_than_days=days)
        self.stdout.write(f"released {count} unverified account{'s' if count != 1 else ''}")
