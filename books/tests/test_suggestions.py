import pytest
from django.test import override_settings

from books.models import PostFeature, SimilarPost
from books.suggestions import (
    MAX_FEATURES,
    PER_FEATURE,
    post_features,
    post_refresh,
    rebuild,
)

from .factories import BookFactory, BookPostFactory, GenreFactory

pytestmark = pytest.mark.django_db


def similar_ids(post):
    return list(
        SimilarPost.objects.filter(post=post)
        .order_by("-score")
        .values_list("similar_id", flat=True)
    )


@pytest.fixture
def shelf():
    fantasy = GenreFactory(name="Fantasy", slug="fantasy")
    cooking = GenreFactory(name="Cooking", slug="cooking")
    posts = {
        "same_author": BookPostFactory(
            book=BookFactory(title="Ember Queen", authors=["Ada Quill"], genres=[fantasy])
        ),
        "same_genre": BookPostFactory(
            book=BookFactory(title="Hollow Crown", authors=["Bo Ek"], genres=[fantasy])
        ),
        "unrelated": BookPostFactory(
            book=BookFactory(title="Weeknight Soups", authors=["Cy Dunn"], genres=[cooking])
        ),
    }
    for post in posts.values():
        post_refresh(post.pk)
    return posts, fantasy


def test_features_are_bounded_and_cover_book_authors_genres_and_words(shelf):
    posts, _ = shelf
    features = post_features(posts["same_author"])
    assert f"b:{posts['same_author'].book_id}" in features
    assert any(f.startswith("a:") for f in features)
    assert any(f.startswith("g:") for f in features)
    assert "t:ember" in features
    long = BookPostFactory(book=BookFactory(description=" ".join(f"word{i}xx" for i in range(99))))
    assert len(post_features(long)) <= MAX_FEATURES


def test_new_post_lists_similar_posts_best_first_and_excludes_unrelated(shelf):
    posts, fantasy = shelf
    new = BookPostFactory(
        book=BookFactory(title="Ember Gate", authors=["Ada Quill"], genres=[fantasy])
    )
    assert post_refresh(new.pk) == "listed"
    assert similar_ids(new) == [posts["same_author"].pk, posts["same_genre"].pk]
    scores = list(SimilarPost.objects.filter(post=new).values_list("score", flat=True))
    assert all(0 < s <= 1 for s in scores)


def test_new_post_joins_the_lists_of_the_posts_it_resembles(shelf):
    posts, fantasy = shelf
    new = BookPostFactory(
        book=BookFactory(title="Ember Gate", authors=["Ada Quill"], genres=[fantasy])
    )
    post_refresh(new.pk)
    assert new.pk in similar_ids(posts["same_author"])
    assert new.pk in similar_ids(posts["same_genre"])
    assert new.pk not in similar_ids(posts["unrelated"])


def test_another_copy_of_the_same_book_is_the_most_similar(shelf):
    posts, _ = shelf
    copy = BookPostFactory(book=posts["same_genre"].book)
    post_refresh(copy.pk)
    assert similar_ids(copy)[0] == posts["same_genre"].pk
    assert similar_ids(posts["same_genre"])[0] == copy.pk


@override_settings(BOOKS_SIMILAR_COUNT=2)
def test_a_full_list_keeps_only_the_best(shelf):
    posts, fantasy = shelf
    target = posts["same_author"]
    for i in range(3):
        weak = BookPostFactory(book=BookFactory(title=f"Other {i}", genres=[fantasy]))
        post_refresh(weak.pk)
    assert len(similar_ids(target)) == 2
    strong = BookPostFactory(book=target.book)  # another copy: beats the weakest entry
    post_refresh(strong.pk)
    ids = similar_ids(target)
    assert len(ids) == 2 and ids[0] == strong.pk


def test_refresh_is_idempotent(shelf):
    posts, fantasy = shelf
    new = BookPostFactory(book=BookFactory(authors=["Ada Quill"], genres=[fantasy]))
    post_refresh(new.pk)
    before = set(SimilarPost.objects.values_list("post_id", "similar_id", "score"))
    post_refresh(new.pk)
    post_refresh(new.pk)
    assert set(SimilarPost.objects.values_list("post_id", "similar_id", "score")) == before


def test_a_gone_post_leaves_every_list_but_keeps_its_own(shelf):
    posts, _ = shelf
    gone = posts["same_genre"]
    gone.status = "gone"
    gone.save()
    assert post_refresh(gone.pk) == "withdrawn"
    assert not SimilarPost.objects.filter(similar_id=gone.pk).exists()
    assert not PostFeature.objects.filter(post_id=gone.pk).exists()
    assert similar_ids(gone) == [posts["same_author"].pk]


def test_a_deleted_post_leaves_the_lists_which_are_refilled(shelf):
    posts, fantasy = shelf
    third = BookPostFactory(book=BookFactory(title="Third", genres=[fantasy]))
    post_refresh(third.pk)
    removed = posts["same_genre"]
    pk = removed.pk
    removed.delete()
    assert post_refresh(pk) == "gone"
    assert not SimilarPost.objects.filter(similar_id=pk).exists()
    assert not SimilarPost.objects.filter(post_id=pk).exists()
    assert similar_ids(posts["same_author"]) == [third.pk]


def test_a_post_made_available_again_is_listed_again(shelf):
    posts, _ = shelf
    post = posts["same_genre"]
    post.status = "reserved"
    post.save()
    post_refresh(post.pk)
    post.status = "available"
    post.save()
    post_refresh(post.pk)
    assert post.pk in similar_ids(posts["same_author"])


def test_candidate_lookups_are_bounded_whatever_the_catalogue_size(
    shelf, django_assert_max_num_queries
):
    posts, fantasy = shelf
    for i in range(PER_FEATURE + 10):
        BookPostFactory(book=BookFactory(title=f"Filler {i}", genres=[fantasy]))
    rebuild()
    new = BookPostFactory(book=BookFactory(title="Ember", authors=["Ada Quill"], genres=[fantasy]))
    # a handful of queries per feature at most, independent of the number of posts
    with django_assert_max_num_queries(MAX_FEATURES + 15):
        post_refresh(new.pk)
    assert len(similar_ids(new)) == 8


def test_rebuild_recomputes_every_list(shelf):
    posts, _ = shelf
    SimilarPost.objects.all().delete()
    PostFeature.objects.all().delete()
    seen = []
    assert rebuild(batch_size=1, progress=lambda done, total: seen.append((done, total))) == 3
    assert similar_ids(posts["same_author"]) == [posts["same_genre"].pk]
    assert seen[-1] == (6, 6)
