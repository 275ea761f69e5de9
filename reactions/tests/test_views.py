"""Like buttons and review forms: plain posts, htmx swaps, permissions, CSRF, escaping,
and constant query counts on the book and post pages."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reactions.models import PostLike, Review
from reactions.ratings import book_rating_refresh

from .factories import BookFactory, BookPostFactory, PostLikeFactory, ReviewFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def member(client):
    user = UserFactory(username="liker")
    client.force_login(user)
    return user


def like_url(post):
    return reverse("reactions:post_like", args=[post.pk])


def unlike_url(post):
    return reverse("reactions:post_unlike", args=[post.pk])


# -- likes ------------------------------------------------------------------------------


def test_post_page_shows_the_like_count_and_a_like_button(client, member):
    post = BookPostFactory()
    PostLikeFactory.create_batch(2, post=post)
    body = client.get(post.get_absolute_url()).content.decode()
    assert "2 likes" in body
    assert f'action="{like_url(post)}"' in body
    assert 'aria-pressed="false"' in body


def test_plain_like_post_likes_and_goes_back_to_the_post(client, member):
    post = BookPostFactory()
    response = client.post(like_url(post))
    assert response.status_code == 302 and response["Location"] == post.get_absolute_url()
    assert PostLike.objects.filter(post=post, user=member).exists()
    body = client.get(post.get_absolute_url()).content.decode()
    assert "1 like<" in body and f'action="{unlike_url(post)}"' in body


def test_double_click_likes_once(client, member):
    post = BookPostFactory()
    client.post(like_url(post))
    client.post(like_url(post))
    assert PostLike.objects.filter(post=post).count() == 1


def test_htmx_like_returns_the_swapped_button_with_the_new_count(client, member):
    post = BookPostFactory()
    PostLikeFactory(post=post)
    response = client.post(like_url(post), **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith("<form") and "<html" not in body
    assert "2 likes" in body and 'aria-pressed="true"' in body
    assert f'hx-post="{unlike_url(post)}"' in body
    response = client.post(unlike_url(post), **HTMX)
    assert "1 like<" in response.content.decode()
    assert not PostLike.objects.filter(post=post, user=member).exists()


def test_unlike_of_a_post_not_liked_is_harmless(client, member):
    post = BookPostFactory()
    assert client.post(unlike_url(post)).status_code == 302


def test_a_safe_next_is_followed_and_an_outside_one_ignored(client, member):
    post = BookPostFactory()
    assert client.post(like_url(post), {"next": "/search/?q=x"})["Location"] == "/search/?q=x"
    response = client.post(unlike_url(post), {"next": "https://evil.example/"})
    assert response["Location"] == post.get_absolute_url()


def test_like_urls_refuse_get(client, member):
    post = BookPostFactory()
    assert client.get(like_url(post)).status_code == 405
    assert not PostLike.objects.exists()


def test_liking_a_missing_post_is_404(client, member):
    assert client.post(reverse("reactions:post_like", args=[999999])).status_code == 404


def test_anonymous_like_goes_to_sign_in_and_back_to_the_post(client):
    post = BookPostFactory()
    response = client.post(like_url(post))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert response["Location"].endswith(f"?next={post.get_absolute_url()}")
    assert not PostLike.objects.exists()
    body = client.get(post.get_absolute_url()).content.decode()
    assert "Sign in to like" in body and "0 likes" in body


def test_anonymous_htmx_like_redirects_the_whole_page(client):
    post = BookPostFactory()
    response = client.post(like_url(post), **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("accounts:login"))
    assert not PostLike.objects.exists()


def test_unverified_member_cannot_like(client):
    client.force_login(UserFactory(unverified=True))
    post = BookPostFactory()
    response = client.post(like_url(post))
    assert response["Location"].startswith(reverse("accounts:verify"))
    assert not PostLike.objects.exists()


def test_like_without_csrf_token_is_refused():
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(UserFactory())
    post = BookPostFactory()
    assert csrf_client.post(like_url(post)).status_code == 403
    assert not PostLike.objects.exists()
    # The button's own form carries the token.
    body = csrf_client.get(post.get_absolute_url()).content.decode()
    assert 'name="csrfmiddlewaretoken"' in body


# -- reviews ----------------------------------------------------------------------------


def review_url(book):
    return reverse("reactions:review_edit", args=[book.pk])


def test_member_writes_then_edits_their_review_from_the_book_page(client, member):
    book = BookFactory()
    body = client.get(book.get_absolute_url()).content.decode()
    assert "Review this book" in body and f'action="{review_url(book)}"' in body
    response = client.post(review_url(book), {"rating": "4", "text": "Warm and funny."})
    assert response.status_code == 302
    assert response["Location"] == f"{book.get_absolute_url()}#my-review"
    review = Review.objects.get(user=member, book=book)
    assert (review.rating, review.text) == (4, "Warm and funny.")
    body = client.get(book.get_absolute_url()).content.decode()
    assert (
        "Your review" in body
        and "Warm and funny." in body
        and 'value="4" id="review_rating_1" required checked' in body
    )
    client.post(review_url(book), {"rating": "2", "text": ""})
    review.refresh_from_db()
    assert (review.rating, review.text) == (2, "")
    assert Review.objects.count() == 1


@pytest.mark.parametrize("rating", ["", "0", "6", "3.5", "x" * 50])
def test_a_bad_rating_shows_a_message_and_writes_nothing(client, member, rating):
    book = BookFactory()
    response = client.post(review_url(book), {"rating": rating, "text": "Kept text"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Choose a rating from 1 to 5 stars." in body
    assert "Kept text" in body  # what was typed is not lost
    assert not Review.objects.exists()


def test_review_text_with_nul_characters_is_a_message_not_a_500(client, member):
    book = BookFactory()
    response = client.post(review_url(book), {"rating": "3", "text": "bad\x00byte"})
    assert response.status_code == 200
    assert not Review.objects.exists()


def test_review_text_is_escaped_with_line_breaks_kept(client):
    book = BookFactory()
    ReviewFactory(book=book, text='<script>alert("x")</script>\nSecond <b>line</b>')
    body = client.get(book.get_absolute_url()).content.decode()
    assert "<script>alert" not in body and "<b>line" not in body
    assert (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<br>Second &lt;b&gt;line&lt;/b&gt;"
        in body
    )


def test_anonymous_and_unverified_members_see_no_form_and_cannot_post(client):
    book = BookFactory()
    body = client.get(book.get_absolute_url()).content.decode()
    assert "Sign in</a> to rate and review" in body and "Post review" not in body
    response = client.post(review_url(book), {"rating": "5"})
    assert response["Location"].startswith(reverse("accounts:login"))
    client.force_login(UserFactory(unverified=True))
    body = client.get(book.get_absolute_url()).content.decode()
    assert "Confirm your email address</a> to rate" in body
    response = client.post(review_url(book), {"rating": "5"})
    assert response["Location"].startswith(reverse("accounts:verify"))
    assert not Review.objects.exists()


def test_review_form_without_csrf_token_is_refused():
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(UserFactory())
    book = BookFactory()
    assert csrf_client.post(review_url(book), {"rating": "5"}).status_code == 403
    review = ReviewFactory(book=book)
    csrf_client.force_login(review.user)
    remove = reverse("reactions:review_remove", args=[review.pk])
    assert csrf_client.post(remove).status_code == 403
    assert Review.objects.filter(pk=review.pk).exists()


def test_author_removes_their_review_after_confirming(client, member):
    review = ReviewFactory(user=member, text="Gone soon")
    url = reverse("reactions:review_remove", args=[review.pk])
    assert "Gone soon" in client.get(url).content.decode()
    assert Review.objects.filter(pk=review.pk).exists()  # GET changes nothing
    response = client.post(url)
    assert response["Location"] == review.book.get_absolute_url()
    assert not Review.objects.filter(pk=review.pk).exists()


def test_another_member_cannot_see_the_remove_page_or_remove(client, member):
    review = ReviewFactory(text="Not yours")
    url = reverse("reactions:review_remove", args=[review.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert Review.objects.filter(pk=review.pk).exists()


def test_another_members_review_post_makes_their_own_review_never_edits_mine(client, member):
    book = BookFactory()
    mine = ReviewFactory(book=book, rating=5, text="Mine")
    client.post(review_url(book), {"rating": "1", "text": "Theirs"})
    mine.refresh_from_db()
    assert (mine.rating, mine.text) == (5, "Mine")
    assert Review.objects.get(user=member).text == "Theirs"


def test_book_page_shows_the_stored_rating_not_a_live_one(client):
    book = BookFactory()
    ReviewFactory(book=book, rating=5)
    ReviewFactory(book=book, rating=2)
    body = client.get(book.get_absolute_url()).content.decode()
    assert "No ratings yet." in body  # the consumer has not run
    book_rating_refresh(book.pk)
    body = client.get(book.get_absolute_url()).content.decode()
    assert "<strong>3.50</strong> out of 5 · 2 ratings" in body


def test_reviews_are_paginated(client, settings):
    settings.REACTIONS_REVIEWS_PAGE_SIZE = 2
    book = BookFactory()
    for n in range(5):
        ReviewFactory(book=book, text=f"Review number {n}")
    body = client.get(book.get_absolute_url()).content.decode()
    assert body.count('class="review"') == 2
    assert "reviews_page=2" in body
    body = client.get(book.get_absolute_url() + "?reviews_page=3").content.decode()
    assert body.count('class="review"') == 1
    # nonsense page numbers give a page, never an error
    assert client.get(book.get_absolute_url() + "?reviews_page=-x").status_code == 200


# -- query counts -------------------------------------------------------------------------


def count_queries(client, url) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_book_page_queries_do_not_grow_with_reviews(client, settings):
    settings.REACTIONS_REVIEWS_PAGE_SIZE = 50
    viewer = UserFactory()
    small, large = BookFactory(), BookFactory()
    for book, n in ((small, 2), (large, 40)):
        for _ in range(n):
            ReviewFactory(book=book)
        ReviewFactory(book=book, user=viewer)
        for _ in range(n):
            BookPostFactory(book=book)
        book_rating_refresh(book.pk)
    assert count_queries(client, small.get_absolute_url()) == count_queries(
        client, large.get_absolute_url()
    )
    client.force_login(viewer)
    assert count_queries(client, small.get_absolute_url()) == count_queries(
        client, large.get_absolute_url()
    )


def test_post_page_queries_do_not_grow_with_likes(client):
    viewer = UserFactory()
    few, many = BookPostFactory(), BookPostFactory()
    PostLikeFactory.create_batch(2, post=few)
    PostLikeFactory.create_batch(30, post=many)
    PostLikeFactory(post=many, user=viewer)
    client.force_login(viewer)
    assert count_queries(client, few.get_absolute_url()) == count_queries(
        client, many.get_absolute_url()
    )


# -- like counts on post cards ----------------------------------------------------------


def _card_pages(post):
    from books.search import index_posts

    index_posts([post.pk])
    return {
        "home": reverse("home"),
        "genre": post.book.genres.first().get_absolute_url(),
        "profile": reverse("accounts:profile", args=[post.owner.username]),
        "search": reverse("books:search") + "?q=lighthouse",
    }


@pytest.fixture
def carded_post():
    from books.tests.factories import GenreFactory

    genre = GenreFactory(name="Sea", slug="sea")
    return BookPostFactory(book=BookFactory(title="The Lighthouse Keeper", genres=[genre]))


def _card_text(client, url, word="Lighthouse"):
    """The one post card (home, genre, profile) or search result naming `word`."""
    body = client.get(url).content.decode()
    cards = [c for c in body.split('post-card">')[1:] if word in c]
    assert len(cards) == 1, url
    return cards[0].split("</article>")[0].split("</li>")[0]


def test_post_cards_show_the_like_count_after_likes_and_unlikes(client, member, carded_post):
    cache.clear()
    pages = _card_pages(carded_post)
    for name, url in pages.items():
        assert "0 likes" in _card_text(client, url), name
    PostLikeFactory.create_batch(2, post=carded_post)
    client.post(like_url(carded_post))
    for name, url in pages.items():
        assert "3 likes" in _card_text(client, url), name
    client.post(unlike_url(carded_post))
    PostLike.objects.filter(post=carded_post).first().delete()
    for name, url in pages.items():
        card = _card_text(client, url)
        assert "1 like<" in card and "likes" not in card, name


def test_card_pages_count_likes_in_one_query_whatever_the_number_of_cards(client, settings):
    from books.search import index_posts
    from books.tests.factories import GenreFactory

    genre = GenreFactory(name="Sea", slug="sea")
    owner = UserFactory(username="sharer")
    posts = [
        BookPostFactory(owner=owner, book=BookFactory(title=f"Harbour {i}", genres=[genre]))
        for i in range(12)
    ]
    for i, post in enumerate(posts):
        PostLikeFactory.create_batch(i % 3 + 1, post=post)
    index_posts([p.pk for p in posts])
    urls = [
        reverse("home"),
        genre.get_absolute_url(),
        reverse("accounts:profile", args=["sharer"]),
        reverse("books:search") + "?q=harbour",
    ]
    for url in urls:
        settings.BOOKS_PAGE_SIZE = 3
        cache.clear()
        small = count_queries(client, url)
        settings.BOOKS_PAGE_SIZE = 12
        cache.clear()
        # Not more; one fewer where the 12 fit on one page (no COUNT, books.views.paginate).
        assert count_queries(client, url) in (small, small - 1), url
    like_counts = [
        q["sql"] for q in _captured(client, reverse("home")) if "reactions_postlike" in q["sql"]
    ]
    assert len(like_counts) == 1
    body = client.get(reverse("home")).content.decode()
    assert body.count("like-count") == 12 and "3 likes" in body and "1 like<" in body


def _captured(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return ctx.captured_queries


def test_reviews_head_is_the_stored_rating_the_viewers_review_and_whether_any_exist():
    from decimal import Decimal

    from django.contrib.auth.models import AnonymousUser

    from reactions import selectors

    viewer, book = UserFactory(), BookFactory()
    head = selectors.reviews_head(book=book, user=viewer)
    assert (head.rating, head.own, head.any_reviews) == (None, None, False)
    ReviewFactory(book=book, rating=5)  # someone else's
    head = selectors.reviews_head(book=book, user=viewer)  # not counted yet: still shown
    assert (head.rating, head.own, head.any_reviews) == (None, None, True)
    ReviewFactory(book=BookFactory(), user=viewer, rating=1)  # the viewer's, of another book
    mine = ReviewFactory(book=book, user=viewer, rating=2, text="Line one\nline two")
    book_rating_refresh(book.pk)

    head = selectors.reviews_head(book=book, user=viewer)
    rating, own = head.rating, head.own
    assert (rating.count, rating.total, rating.average) == (2, 7, Decimal("3.50"))
    assert rating.stars == "★★★★☆"
    assert (own.pk, own.rating, own.text) == (mine.pk, 2, "Line one\nline two")
    head = selectors.reviews_head(book=book, user=AnonymousUser())
    assert head.rating.count == 2 and head.own is None and head.any_reviews


def test_a_book_without_reviews_reads_no_page_of_them_and_says_so(client):
    book = BookFactory()
    with CaptureQueriesContext(connection) as ctx:
        body = client.get(book.get_absolute_url()).content.decode()
    assert "No reviews yet." in body and "No ratings yet." in body
    # the panel's one query is reviews_head's; no page of reviews is read
    assert not [q for q in ctx.captured_queries if '"reactions_review"."text"' in q["sql"]]
    ReviewFactory(book=book, text="Counted or not, it shows at once.")  # no consumer run
    body = client.get(book.get_absolute_url()).content.decode()
    assert "Counted or not, it shows at once." in body and "No reviews yet." not in body
