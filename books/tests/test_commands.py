from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from books.models import PostFeature, SearchEntry, SimilarPost
from books.search import search_posts

from .factories import BookFactory, BookPostFactory, GenreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def posts():
    genre = GenreFactory(name="Fantasy", slug="fantasy")
    return [
        BookPostFactory(book=BookFactory(title=f"Ember Tale {i}", genres=[genre])) for i in range(5)
    ]


def test_search_reindex_builds_the_index_in_batches_with_progress(posts):
    SearchEntry.objects.create(**{**_stale_entry(), "post_id": 999999})
    out = StringIO()
    call_command("search", "reindex", "--batch-size", "2", stdout=out)
    text = out.getvalue()
    assert "100% 5/5" in text and "5 indexed, 1 removed" in text
    assert SearchEntry.objects.count() == 5
    assert search_posts("ember").count() == 5


def test_search_stats(posts):
    out = StringIO()
    call_command("search", "reindex", stdout=StringIO())
    call_command("search", "stats", stdout=out)
    assert "5 entries" in out.getvalue()


def test_search_rejects_a_bad_batch_size():
    with pytest.raises(CommandError):
        call_command("search", "reindex", "--batch-size", "0")


def test_suggestions_rebuild(posts):
    out = StringIO()
    call_command("suggestions", "rebuild", "--batch-size", "2", stdout=out)
    assert "suggestions rebuilt for 5 posts" in out.getvalue()
    assert PostFeature.objects.filter(post=posts[0]).exists()
    assert SimilarPost.objects.filter(post=posts[0]).count() == 4


def _stale_entry():
    from django.utils import timezone

    return {
        "book_id": 1,
        "owner_id": 1,
        "owner_name": "x",
        "title": "Stale",
        "title_key": "stale",
        "language": "en",
        "offer": "give",
        "condition": "good",
        "status": "available",
        "created_at": timezone.now(),
    }
