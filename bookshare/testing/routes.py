"""Every URL the site serves, from the URL conf, for generated tests (the authorization
matrix and the fuzz test in bookshare/core/tests/). A view added to any urls.py is in
this list the moment it is included; the admin is covered through its registry instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from django.urls import URLPattern, URLResolver, get_resolver

# Routes whose URLs the generated tests do not walk, with the reason.
SKIPPED_PREFIXES = {
    "admin/": "covered through the admin registry (every ModelAdmin and action)",
    "static/": "files",
    "media/": "files",
    "__debug__/": "development only",
}


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or the pattern when unnamed
    pattern: str  # e.g. "posts/<int:pk>/edit/"
    converters: dict  # parameter name -> converter class name ("IntConverter", ...)

    def url(self, kwargs: dict) -> str:
        """The path with each <param> replaced by kwargs[param] (quoted as needed)."""
        from urllib.parse import quote

        def fill(match):
            name = match.group(2)
            return quote(str(kwargs[name]), safe="")

        return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", fill, self.pattern)


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        piece = str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _walk(entry.url_patterns, prefix + piece, full_ns)
        elif isinstance(entry, URLPattern):
            pattern = prefix + piece
            if piece.startswith("^") or "(?P<" in piece:
                continue  # regex routes: none of ours
            name = entry.name and (f"{namespace}:{entry.name}" if namespace else entry.name)
            converters = {
                key: type(conv).__name__ for key, conv in entry.pattern.converters.items()
            }
            yield Route(name=name or pattern, pattern=pattern, converters=converters)


def all_routes() -> list[Route]:
    """Every named route outside SKIPPED_PREFIXES, in URL-conf order, once each."""
    seen, routes = set(), []
    for route in _walk(get_resolver().url_patterns):
        if route.pattern.startswith(tuple(SKIPPED_PREFIXES)) or route.name in seen:
            continue
        seen.add(route.name)
        routes.append(route)
    return routes


class _FormFields(HTMLParser):
    """Names of the fields of every <form method=post> in a page (input, select,
    textarea), with the values offered for selects, checkboxes and radios."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            method = (a.get("method") or "get").lower()
            self._form = {"action": a.get("action"), "method": method, "fields": {}}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag in ("input", "textarea", "select") and a.get("name"):
            name = a["name"]
            field = self._form["fields"].setdefault(
                name, {"type": a.get("type", tag), "choices": []}
            )
            if tag == "input" and a.get("type") in ("checkbox", "radio") and a.get("value"):
                field["choices"].append(a["value"])
            if tag == "input" and a.get("type") == "hidden" and a.get("value") is not None:
                field["choices"].append(a["value"])
            if tag == "select":
                self._select = name
        elif tag == "option" and self._select and a.get("value") is not None:
            self._form["fields"][self._select]["choices"].append(a["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def forms_in(html: str) -> list[dict]:
    parser = _FormFields()
    parser.feed(html)
    return parser.forms
