"""Open Library: the edition by ISBN (`/isbn/{isbn}.json`), then its work and authors;
the cover by ISBN (covers.openlibrary.org); borrow availability (the Read API,
`/api/volumes/brief/isbn/{isbn}.json`). Requests carry a User-Agent naming the site and
a contact address, and stay under 3 requests a second (Open Library's limit for
identified clients)."""

from __future__ import annotations

from django.conf import settings

from .base import (
    BookData,
    Condition,
    Kind,
    Offer,
    Provider,
    as_dict,
    as_list,
    positive_int,
    safe_link,
    text,
    year_from,
)
from .http import ProviderError

MAX_AUTHORS = 10


class OpenLibrary(Provider):
    name = "openlibrary"
    label = "Open Library"
    per_second = 3

    @classmethod
    def url_setting(cls) -> str:
        return settings.OPENLIBRARY_URL

    def lookup(self, isbn13: str) -> BookData | None:
        edition = self.client.get_json(f"/isbn/{isbn13}.json")
        if edition is None:
            return None
        if not isinstance(edition, dict) or not edition.get("title"):
            raise ProviderError("bad_response", "openlibrary: edition without a title")
        data = BookData(
            source=self.name,
            title=text(edition.get("title"), 300),
            subtitle=text(edition.get("subtitle"), 300),
            publisher=text((as_list(edition.get("publishers")) or [""])[0], 200),
            year=year_from(edition.get("publish_date")),
            pages=positive_int(edition.get("number_of_pages")),
            description=text(edition.get("description"), 5000),
            subjects=[text(s, 80) for s in as_list(edition.get("subjects")) if text(s, 80)],
            link=f"{self.base_url}/isbn/{isbn13}",
        )
        author_keys = [
            as_dict(a).get("key") for a in as_list(edition.get("authors")) if as_dict(a).get("key")
        ]
        works = [as_dict(w).get("key") for w in as_list(edition.get("works"))]
        work_key = next((k for k in works if isinstance(k, str) and k.startswith("/works/")), "")
        if work_key:
            work = self.client.get_json(f"{work_key}.json")
            if isinstance(work, dict):
                if not data.description:
                    data.description = text(work.get("description"), 5000)
                data.subjects += [
                    text(s, 80) for s in as_list(work.get("subjects"))[:30] if text(s, 80)
                ]
                if not author_keys:
                    author_keys = [
                        as_dict(as_dict(a).get("author")).get("key")
                        for a in as_list(work.get("authors"))
                    ]
        for key in [k for k in author_keys if isinstance(k, str) and k.startswith("/authors/")][
            :MAX_AUTHORS
        ]:
            author = self.client.get_json(f"{key}.json")
            name = text(as_dict(author).get("name"), 200)
            if name:
                data.authors.append(name)
        covers = [c for c in as_list(edition.get("covers")) if isinstance(c, int) and c > 0]
        if covers:
            data.cover_url = f"{settings.OPENLIBRARY_COVERS_URL.rstrip('/')}/b/id/{covers[0]}-L.jpg"
        return data

    def offer(self, isbn13: str) -> Offer:
        answer = self.client.get_json(f"/api/volumes/brief/isbn/{isbn13}.json")
        items = as_list(as_dict(answer).get("items"))
        best = None
        for item in items:
            item = as_dict(item)
            status = str(item.get("status", "")).lower()
            if status in ("full access", "lendable", "borrow_available"):
                best = item
                break
            if status in ("checked out", "borrow_unavailable") and best is None:
                best = item
        if best is None:
            return Offer(provider=self.name, kind=Kind.NONE, reason="not_for_sale")
        status = str(best.get("status", "")).lower()
        return Offer(
            provider=self.name,
            kind=Kind.BORROW,
            condition=Condition.BORROW,
            url=safe_link(best.get("itemURL")) or f"{self.base_url}/isbn/{isbn13}",
            reason="" if status in ("full access", "lendable", "borrow_available") else "waitlist",
        )
