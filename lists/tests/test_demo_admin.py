from io import StringIO

import pytest
from django.core.management import call_command

from books.tests.factories import BookFactory
from lists import services
from lists.models import ImportJob, ListItem, ReadingList

from .csvfiles import GOODREADS_HEADER, goodreads_row, to_csv
from .factories import CustomListFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_demo_members_lists_and_is_idempotent():
    call_command("seed_demo", stdout=StringIO())
    ada = ReadingList.objects.filter(owner__username="ada")
    assert {"want_to_read", "reading", "read", "favourites", "custom"} <= set(
        ada.values_list("kind", flat=True)
    )
    assert ListItem.objects.filter(owner__username="ada", status="read").count() == 10
    assert ada.filter(is_public=False).exists()
    counts = (ReadingList.objects.count(), ListItem.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (ReadingList.objects.count(), ListItem.objects.count()) == counts


def test_admin_lists_items_and_jobs_with_search_and_filters(staff_client):
    shelf = CustomListFactory(name="Findable shelf", is_public=False)
    services.list_add_book(reading_list=shelf, book=BookFactory(title="Findable book"))
    user = UserFactory(username="importer")
    content = to_csv(GOODREADS_HEADER, [goodreads_row(title="One", author="A. Writer")])
    services.import_start(user=user, filename="mine.csv", content=content)
    pages = [
        ("/admin/lists/readinglist/", {"q": "Findable"}, b"Findable shelf"),
        (
            "/admin/lists/readinglist/",
            {"kind__exact": "custom", "is_public__exact": "0"},
            b"Findable shelf",
        ),
        ("/admin/lists/listitem/", {"q": "Findable book"}, b"Findable book"),
        ("/admin/lists/listitem/", {"list__kind__exact": "custom"}, b"Findable book"),
        ("/admin/lists/importjob/", {"q": "importer", "state__exact": "queued"}, b"mine.csv"),
    ]
    for url, params, text in pages:
        response = staff_client.get(url, params)
        assert response.status_code == 200 and text in response.content, url
    job = ImportJob.objects.get()
    assert staff_client.get(f"/admin/lists/importjob/{job.pk}/change/").status_code == 200
    assert staff_client.get(f"/admin/lists/readinglist/{shelf.pk}/change/").status_code == 200


def test_data_migration_gives_existing_members_their_builtin_lists():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("lists.migrations.0002_builtin_lists_for_existing_members")
    user = UserFactory()
    ReadingList.objects.filter(owner=user).delete()
    migration.forwards(apps, None)
    migration.forwards(apps, None)
    assert ReadingList.objects.filter(owner=user).count() == 4
