"""Covers on cards, results and book pages: the image when there is one (uploaded or a
URL), else a generated placeholder with title, author and a genre colour."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template

from books.covers import colour_for
from books.search import index_posts

from .factories import BookFactory, BookPostFactory, GenreFactory

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def test_uploaded_cover_shows_on_the_card(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    book = BookFactory(title="Persuasion", authors=["Jane Austen"])
    book.cover.save("persuasion.png", SimpleUploadedFile("p.png", PNG), save=True)
    BookPostFactory(book=book)
    body = client.get("/").content.decode()
    assert f'class="cover-img" src="{book.cover.url}"' in body
    assert "cover-placeholder" not in body


def test_an_outside_cover_url_is_never_hot_linked_on_cards_or_search_results(client):
    """Issue 13 item 9: a cover URL is fetched and stored by a worker (catalogue), never
    shown as a link to the outside site; until then the card draws a cover."""
    book = BookFactory(title="Emma", authors=["Jane Austen"], cover_url="https://img.test/e.jpg")
    post = BookPostFactory(book=book)
    index_posts([post.pk])
    for url in ["/", "/search/?q=emma"]:
        body = client.get(url).content.decode()
        assert "img.test" not in body, url
        assert "cover-placeholder" in body, url


def test_no_cover_gives_a_placeholder_everywhere_with_escaped_text(client):
    genre = GenreFactory(name="Horror", slug="horror")
    book = BookFactory(title="<script>x</script> Night", authors=["A & B"], genres=[genre])
    post = BookPostFactory(book=book)
    index_posts([post.pk])
    for url in ["/", post.get_absolute_url(), book.get_absolute_url(), "/search/?q=night"]:
        body = client.get(url).content.decode()
        assert "cover-placeholder" in body, url
        assert "<script>x" not in body, url
        assert "&lt;script&gt;x" in body, url
    assert colour_for("horror") in client.get("/").content.decode()


def test_placeholder_colour_depends_on_the_genre():
    assert colour_for("fantasy") != colour_for("science-fiction")
    assert colour_for("some-new-genre") == colour_for("some-new-genre")


def test_the_tag_is_reusable_by_other_apps():
    book = BookFactory(title="Beloved", authors=["Toni Morrison"])
    html = Template("{% load books_tags %}{% book_cover book %}").render(Context({"book": book}))
    assert 'role="img" aria-label="Cover of Beloved, by Toni Morrison"' in html
    html = Template("{% load books_tags %}{% book_cover book decorative=True %}").render(
        Context({"book": book})
    )
    assert 'aria-hidden="true"' in html
