"""`python manage.py seed_demo`: idempotent demo data from every app's `demo.py`.

Each app may have a `demo.py` with `seed(*, stdout, style)`; it must be safe to run again
(get-or-create by natural keys). Apps are seeded in INSTALLED_APPS order. A `demo.py` may
also have `seed_links(*, stdout, style)`, run after every app's `seed`, for links to
another app's demo data (a member's favourite genres, say), so one run is enough.
"""

from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Load demo data (safe to run again)."

    def handle(self, *args, **options):
        modules = []
        for config in apps.get_app_configs():
            try:
                modules.append((config.label, import_module(f"{config.name}.demo")))
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
        for label, module in modules:
            self.stdout.write(f"seeding {label} …")
            with transaction.atomic():
                module.seed(stdout=self.stdout, style=self.style)
        for _label, module in modules:
            if hasattr(module, "seed_links"):
                with transaction.atomic():
                    module.seed_links(stdout=self.stdout, style=self.style)
        self.stdout.write(self.style.SUCCESS("demo data ready"))
