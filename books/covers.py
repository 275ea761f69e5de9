"""Placeholder covers: an inline SVG with the title, the author and a colour from the genre.

Inline markup, not a data URI or a script, so it works under any Content-Security-Policy
and costs no request. Used by the `{% book_cover %}` tag (books_tags) wherever a book has
no cover image: cards, search results, lists and book pages.
"""

from __future__ import annotations

import hashlib
import textwrap

from django.utils.html import escape

# Dark backgrounds that keep white text above 7:1, one per genre family.
PALETTE = [
    "#1f4e79",
    "#6b2d5c",
    "#2e5d34",
    "#7a3b12",
    "#4a3f7a",
    "#0f5c5c",
    "#7a1f2b",
    "#3d4a57",
    "#5a4a14",
    "#264d73",
]
GENRE_COLOURS = {
    "fantasy": "#4a3f7a",
    "science-fiction": "#0f5c5c",
    "crime": "#3d4a57",
    "mystery": "#3d4a57",
    "thriller": "#7a1f2b",
    "romance": "#6b2d5c",
    "classics": "#5a4a14",
    "literary-fiction": "#1f4e79",
    "history": "#7a3b12",
    "biography": "#264d73",
    "children": "#2e5d34",
    "young-adult": "#6b2d5c",
    "horror": "#2b2b2b",
    "poetry": "#5a3d6b",
    "science": "#0f4f6b",
    "non-fiction": "#264d73",
    "cookery": "#7a3b12",
    "travel": "#2e5d34",
    "philosophy": "#3f3f6b",
}


def colour_for(genre_key: str) -> str:
    key = (genre_key or "").strip().lower().replace(" ", "-")
    if key in GENRE_COLOURS:
        return GENRE_COLOURS[key]
    digest = hashlib.sha256(key.encode()).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def _lines(text: str, width: int, limit: int) -> list[str]:
    lines = textwrap.wrap(text, width=width, break_long_words=True) or [""]
    if len(lines) > limit:
        lines = lines[:limit]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return lines


def placeholder_svg(*, title: str, authors: str, genre_key: str, label: str | None) -> str:
    """The markup of a 200×300 placeholder cover. `label` None makes it decorative."""
    colour = colour_for(genre_key)
    title_lines = _lines(title, 14, 5)
    author_lines = _lines(authors, 20, 2)
    parts = []
    y = 70
    for line in title_lines:
        parts.append(
            f'<text x="100" y="{y}" font-size="20" font-weight="700">{escape(line)}</text>'
        )
        y += 26
    y = max(y + 20, 220)
    for line in author_lines:
        parts.append(f'<text x="100" y="{y}" font-size="14">{escape(line)}</text>')
        y += 19
    if label is None:
        a11y = 'aria-hidden="true" focusable="false"'
    else:
        a11y = f'role="img" aria-label="{escape(label)}"'
    return (
        f'<svg class="cover-img cover-placeholder" viewBox="0 0 200 300" {a11y} '
        'xmlns="http://www.w3.org/2000/svg">'
        f'<rect width="200" height="300" fill="{colour}"/>'
        '<rect x="12" y="12" width="176" height="276" fill="none" stroke="#ffffff" '
        'stroke-opacity=".55" stroke-width="2"/>'
        '<g fill="#ffffff" text-anchor="middle" font-family="Georgia, serif">'
        + "".join(parts)
        + "</g></svg>"
    )
