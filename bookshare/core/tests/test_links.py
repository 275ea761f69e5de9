"""Cached URLs for the base layout and list rows are the URLs reverse() gives."""

import pytest
from django.template import Context, Template
from django.urls import reverse

from bookshare.core.links import url, url_for_pk


@pytest.mark.parametrize(
    "name", ["exchanges:request_detail", "books:post_detail", "notifications:mark_read"]
)
def test_url_for_pk_is_reverse(name):
    for pk in (1, 42, 2147480001, 10**9):
        assert url_for_pk(name, pk) == reverse(name, kwargs={"pk": pk})


def test_url_is_reverse_and_the_tag_prints_it():
    assert url("books:search") == reverse("books:search")
    rendered = Template("{% load site_links %}{% link 'home' %}|{% link 'contact' %}").render(
        Context()
    )
    assert rendered == f"{reverse('home')}|{reverse('contact')}"


def test_a_script_prefix_is_respected():
    from django.urls import get_script_prefix, set_script_prefix

    saved = get_script_prefix()
    try:
        set_script_prefix("/books-site/")
        assert url("home") == reverse("home") == "/books-site/"
        assert url_for_pk("books:post_detail", 3) == reverse("books:post_detail", args=[3])
    finally:
        set_script_prefix(saved)


def test_a_pattern_without_a_single_pk_is_refused():
    with pytest.raises(Exception):  # noqa: B017, PT011 - NoReverseMatch or ValueError
        url_for_pk("home", 1)
