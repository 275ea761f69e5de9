"""Covers: every image we keep, uploaded or fetched, is decoded and re-encoded by Pillow.

Only JPEG, PNG, GIF and WebP images decode; the pixel count is checked from the header
before the pixels are decoded (no decompression bombs); the new file carries pixels only
(no EXIF, comments, ICC or trailing bytes, so no polyglots) and gets a random name.
"""

from __future__ import annotations

import io
import secrets
import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}
MAX_SIDE = 1200  # stored covers are at most this wide or tall
REFUSED = "Upload a JPEG, PNG, GIF or WebP image."
TOO_MANY_PIXELS = "That image has too many pixels; a cover needs no more than a few million."


def max_pixels() -> int:
    return int(settings.CATALOGUE_COVER_MAX_PIXELS)


def reencode(data: bytes) -> ContentFile:
    """A clean JPEG or PNG of the image in `data`, under a random name.

    Raises ValidationError (with a message for the member) for anything that is not a
    decodable image of an allowed type and size.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ALLOWED_FORMATS:
                raise ValidationError(REFUSED, code="cover_type")
            width, height = image.size
            if width * height > max_pixels() or width < 1 or height < 1:
                raise ValidationError(TOO_MANY_PIXELS, code="cover_pixels")
            image.seek(0)
            image.load()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(TOO_MANY_PIXELS, code="cover_pixels") from None
    except UnidentifiedImageError:
        raise ValidationError(REFUSED, code="cover_type") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ValidationError(REFUSED, code="cover_broken") from exc
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    image = image.convert("RGBA" if has_alpha else "RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    if has_alpha:
        image.save(out, format="PNG", optimize=True)
        extension = "png"
    else:
        image.save(out, format="JPEG", quality=85, optimize=True)
        extension = "jpg"
    return ContentFile(out.getvalue(), name=f"{secrets.token_hex(16)}.{extension}")


def reencode_upload(upload) -> ContentFile:
    limit = int(settings.BOOKS_COVER_MAX_BYTES)
    if upload.size > limit:
        raise ValidationError(f"That image is too large (at most {limit // (1024 * 1024)} MB).")
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(f"That image is too large (at most {limit // (1024 * 1024)} MB).")
    return reencode(data)


def public_http_url(url: str) -> bool:
    """True when `url` is http(s) and its host resolves only to public addresses: a
    check ahead of time. Fetching checks again and connects to the address it checked
    (providers.http.checked_address, used by jobs.fetch_cover)."""
    import httpx

    from .providers.http import ProviderError, checked_address

    try:
        checked_address(httpx.URL(url))
    except (ProviderError, httpx.InvalidURL, TypeError, ValueError):
        return False
    return True
