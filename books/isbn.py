"""ISBN parsing: ISBN-10 and ISBN-13 in, a validated ISBN-13 out."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—.]")


def _digits(value: str) -> bool:
    """True for ASCII 0-9 only. str.isdigit() also accepts superscripts and other scripts'
    digits, which int() then refuses (issue 13, item 3)."""
    return value.isascii() and value.isdigit()


def _clean(value: str) -> str:
    value = (value or "").strip()
    if value.lower().startswith("isbn"):
        value = value[4:].lstrip(":").strip()
        if value[:3] in ("-10", "-13"):
            value = value[3:].lstrip(":").strip()
    return _SEPARATORS.sub("", value).upper()


def isbn13_check_digit(first12: str) -> str:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def isbn10_check_digit(first9: str) -> str:
    total = sum(int(d) * (10 - i) for i, d in enumerate(first9))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def to_isbn13(value: str) -> str:
    """Return the ISBN-13 for an ISBN-10 or ISBN-13, or raise a ValidationError that says why."""
    raw = _clean(value)
    if not raw:
        raise ValidationError("Enter an ISBN.", code="isbn_empty")
    if len(raw) == 10:
        body, check = raw[:9], raw[9]
        if not _digits(body) or not (_digits(check) or check == "X"):
            raise ValidationError(
                "An ISBN-10 has nine digits and then a digit or X.", code="isbn_chars"
            )
        if isbn10_check_digit(body) != check:
            raise ValidationError(
                "This ISBN-10 is not valid: its check digit should be %(expected)s. "
                "Please check for a typing mistake.",
                code="isbn_checksum",
                params={"expected": isbn10_check_digit(body)},
            )
        first12 = "978" + body
        return first12 + isbn13_check_digit(first12)
    if len(raw) == 13:
        if not _digits(raw):
            raise ValidationError("An ISBN-13 has 13 digits.", code="isbn_chars")
        if not raw.startswith(("978", "979")):
            raise ValidationError("An ISBN-13 starts with 978 or 979.", code="isbn_prefix")
        if isbn13_check_digit(raw[:12]) != raw[12]:
            raise ValidationError(
                "This ISBN-13 is not valid: its check digit should be %(expected)s. "
                "Please check for a typing mistake.",
                code="isbn_checksum",
                params={"expected": isbn13_check_digit(raw[:12])},
            )
        return raw
    raise ValidationError(
        "An ISBN has 10 or 13 digits (hyphens and spaces are fine).", code="isbn_length"
    )


def looks_like_isbn(value: str) -> str | None:
    """The ISBN-13 if `value` is nothing but a valid ISBN, else None (for the search box)."""
    raw = _clean(value)
    if len(raw) not in (10, 13) or not _digits(raw[:9]):
        return None
    try:
        return to_isbn13(raw)
    except ValidationError:
        return None
