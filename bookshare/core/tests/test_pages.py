"""The site's own pages, the favicon and the branded error pages."""

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "heading"),
    [
        ("/about/", "About BookShare"),
        ("/how-sharing-works/", "How sharing works"),
        ("/privacy/", "Privacy"),
        ("/terms/", "Terms of use"),
        ("/contact/", "Contact"),
    ],
)
def test_footer_pages_have_real_text_and_are_linked_from_every_page(client, url, heading):
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert f"<h1>{heading}</h1>" in body
    assert len(body) > 2500
    assert f'href="{url}"' in client.get("/").content.decode()


def test_contact_page_shows_the_configured_address(client, settings):
    settings.CONTACT_EMAIL = "team@books.example"
    assert 'href="mailto:team@books.example"' in client.get("/contact/").content.decode()


def test_favicon_is_linked_and_ico_redirects_to_it(client):
    assert 'rel="icon" href="/static/favicon.svg"' in client.get("/").content.decode()
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/favicon.svg"


def test_missing_post_gets_the_branded_404(client):
    response = client.get("/posts/999999/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "We couldn't find that page" in body
    assert 'aria-label="Main"' in body


def test_server_error_page_is_branded_and_needs_no_database():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_how_it_works_block_is_on_the_home_page_for_newcomers(client):
    assert "How getting a book works" in client.get("/").content.decode()
