"""`python manage.py seed_demo`: idempotent demo data from every app's `demo.py`.

Each app may have a `demo.py` with `seed(*, stdout, style)`; it must be safe to run again
(get-or-create by natural keys). Apps are seeded in INSTALLED_APPS order.
"""

from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Load demo data (safe to run again)."

    def handle(self, *args, **options):
        for config in apps.get_app_configs():
            try:
                module = import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            self.stdout.write(f"seeding {config.label} …")
            with transaction.atomic():
                module.seed(stdout=self.stdout, style=self.style)
        self.stdout.write(self.style.SUCCESS("demo data ready"))
