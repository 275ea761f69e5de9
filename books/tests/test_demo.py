from io import StringIO

import pytest
from django.core.management import call_command

from books.models import Book, BookPost, Genre, SearchEntry, SimilarPost
from books.search import search_posts

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_searchable():
    call_command("seed_demo", stdout=StringIO())
    counts = (Genre.objects.count(), Book.objects.count(), BookPost.objects.count())
    assert counts[0] == 12 and counts[1] >= 250 and counts[2] >= 250
    assert SearchEntry.objects.count() == counts[2]
    assert SimilarPost.objects.exists()
    assert search_posts("lantern").count() > 0
    call_command("seed_demo", stdout=StringIO())
    assert (Genre.objects.count(), Book.objects.count(), BookPost.objects.count()) == counts
