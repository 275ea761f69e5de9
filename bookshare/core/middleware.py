"""Request checks that turn odd input into a 400 before any view runs, and headers that
every response carries.

- A body declared in a charset other than UTF-8 (or ASCII): 400. Django would decode the
  form with that codec, and UTF-16 & co. fail on ordinary form bytes (a 500 before).
- NUL characters in a query-string key or value: 400. No link of ours has them, and
  PostgreSQL refuses them in text (a 500 in admin filters before). Forms are left to
  Django's form validation, which refuses NUL with a message on the field.
- X-Forwarded-For from a trusted proxy that is not an IP address: 400 (see proxies.py).
- Permissions-Policy on every response (settings.PERMISSIONS_POLICY).
"""

from __future__ import annotations

import codecs

from django.conf import settings
from django.core.exceptions import SuspiciousOperation

from .proxies import client_ip

ALLOWED_CHARSETS = {"utf-8", "ascii"}


class BadRequestEncoding(SuspiciousOperation):
    """The request body or query string cannot be read as UTF-8 text."""


def _charset_allowed(charset: str) -> bool:
    try:
        return codecs.lookup(charset).name in ALLOWED_CHARSETS
    except LookupError:
        return False


def _has_nul(querydict) -> bool:
    for key, values in querydict.lists():
        if "\x00" in key or any(isinstance(v, str) and "\x00" in v for v in values):
            return True
    return False


class RequestSanityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        charset = request.content_params.get("charset") if request.content_params else None
        if charset is not None and not _charset_allowed(charset):
            raise BadRequestEncoding(f"Unsupported request charset {charset[:40]!r}")
        if _has_nul(request.GET):
            raise BadRequestEncoding("NUL character in the query string")
        client_ip(request)  # raises BadForwardedFor (400) for a bad trusted header
        response = self.get_response(request)
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = policy
        return response
