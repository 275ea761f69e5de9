"""Issue 13.8: covers are decoded and re-encoded, never stored as uploaded."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from books.models import BookPost
from catalogue import fakes

pytestmark = pytest.mark.django_db


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (60, 90), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010E] = "secret description"  # ImageDescription
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def gif_with_script() -> bytes:
    out = io.BytesIO()
    Image.new("P", (20, 20)).save(out, format="GIF")
    return out.getvalue() + b"<script>alert(document.cookie)</script>"


def wave_as_webp() -> bytes:
    return b"RIFF" + (36).to_bytes(4, "little") + b"WAVEfmt " + b"\x00" * 32


def post_with_cover(client, name: str, data: bytes):
    return client.post(
        reverse("books:post_create"),
        {
            "title": "Covered",
            "authors": "A. Writer",
            "language": "en",
            "offer": "give",
            "condition": "good",
            "cover": SimpleUploadedFile(name, data, content_type="image/jpeg"),
        },
    )


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("poly.jpg", fakes.polyglot_jpeg(), "Upload a JPEG, PNG, GIF or WebP image"),
        ("sound.webp", wave_as_webp(), "Upload a JPEG, PNG, GIF or WebP image"),
        ("bomb.png", fakes.bomb_png(), "too many pixels"),
        ("page.html", b"<html><body>hi</body></html>", "Upload a JPEG, PNG, GIF or WebP image"),
    ],
)
def test_bad_covers_are_refused_with_a_message(client, member, name, data, message):
    response = post_with_cover(client, name, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not BookPost.objects.exists()


def test_a_cover_is_reencoded_without_metadata_under_a_random_name(
    client, member, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    response = post_with_cover(client, "my-holiday-IMG_0042.jpg", jpeg_with_exif())
    assert response.status_code == 302
    book = BookPost.objects.get().book
    assert "IMG_0042" not in book.cover.name and book.cover.name.endswith(".jpg")
    stored = book.cover.read()
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and image.size == (60, 90)
    assert not image.getexif() and b"secret description" not in stored


def test_trailing_script_after_a_gif_is_dropped(client, member, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    assert post_with_cover(client, "anim.gif", gif_with_script()).status_code == 302
    stored = BookPost.objects.get().book.cover.read()
    assert b"<script" not in stored and Image.open(io.BytesIO(stored)).format in ("PNG", "JPEG")


def test_a_huge_form_field_is_refused_not_a_500(client, member):
    response = client.post(
        reverse("books:post_create"),
        {"title": "T", "authors": "A", "note": "x" * (2 * 1024 * 1024)},
    )
    assert response.status_code == 400


def test_a_cover_uploaded_in_the_admin_is_reencoded_too(staff_client):
    from books.tests.factories import BookFactory

    book = BookFactory(title="Admin Cover", authors=["A. Writer"])
    url = reverse("admin:books_book_change", args=[book.pk])
    response = staff_client.post(
        url,
        {
            "title": "Admin Cover",
            "language": "en",
            "cover": SimpleUploadedFile("x.jpg", fakes.polyglot_jpeg(), content_type="image/jpeg"),
            "credits-TOTAL_FORMS": "0",
            "credits-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "Upload a JPEG, PNG, GIF or WebP image" in response.content.decode()


@pytest.mark.parametrize(
    ("url", "public"),
    [
        ("http://127.0.0.1/x.jpg", False),
        ("http://169.254.169.254/latest/meta-data", False),
        ("http://10.0.0.5/x.jpg", False),
        ("http://[::1]/x.jpg", False),
        ("file:///etc/passwd", False),
        ("http://8.8.8.8/x.jpg", True),
    ],
)
def test_member_cover_urls_must_be_public_addresses(settings, url, public):
    from catalogue.images import public_http_url

    settings.CATALOGUE_COVER_ALLOW_PRIVATE = False
    assert public_http_url(url) is public
