"""Every existing member gets the four built-in lists (new members get them with the
account, from lists.signals)."""

from django.conf import settings
from django.db import migrations

BUILTIN = [
    ("want_to_read", "Want to read"),
    ("reading", "Reading"),
    ("read", "Read"),
    ("favourites", "Favourites"),
]


def forwards(apps, schema_editor):
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    ReadingList = apps.get_model("lists", "ReadingList")
    user_ids = User.objects.values_list("pk", flat=True).order_by("pk").iterator(chunk_size=2000)
    batch = []
    for user_id in user_ids:
        batch.extend(ReadingList(owner_id=user_id, kind=k, name=n) for k, n in BUILTIN)
        if len(batch) >= 4000:
            ReadingList.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    if batch:
        ReadingList.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("lists", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
