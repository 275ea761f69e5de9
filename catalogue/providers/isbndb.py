"""ISBNdb (paid; on only when ISBNDB_API_KEY is set): `/book/{isbn}?with_prices=1` with
the key in the Authorization header. The one ISBN API with print prices (`prices`: a
list of merchant offers with condition, price and link; `msrp` otherwise)."""

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
    money,
    positive_int,
    safe_link,
    text,
    year_from,
)


class ISBNdb(Provider):
    name = "isbndb"
    label = "ISBNdb"
    per_second = 1

    @classmethod
    def url_setting(cls) -> str:
        return settings.ISBNDB_URL if settings.ISBNDB_API_KEY else ""

    def headers(self) -> dict:
        return {"Authorization": settings.ISBNDB_API_KEY}

    def _book(self, isbn13: str) -> dict | None:
        answer = self.client.get_json(f"/book/{isbn13}", params={"with_prices": "1"})
        book = as_dict(as_dict(answer).get("book"))
        return book or None

    def lookup(self, isbn13: str) -> BookData | None:
        book = self._book(isbn13)
        if book is None or not book.get("title"):
            return None
        return BookData(
            source=self.name,
            title=text(book.get("title"), 300),
            authors=[text(a, 200) for a in as_list(book.get("authors"))[:10] if text(a, 200)],
            publisher=text(book.get("publisher"), 200),
            year=year_from(book.get("date_published")),
            pages=positive_int(book.get("pages")),
            description=text(book.get("synopsis") or book.get("overview"), 5000),
            subjects=[text(s, 80) for s in as_list(book.get("subjects")) if text(s, 80)],
            cover_url=safe_link(book.get("image")),
        )

    def offer(self, isbn13: str) -> Offer:
        book = self._book(isbn13)
        if book is None:
            return Offer(provider=self.name, kind=Kind.NONE, reason="not_found")
        best: Offer | None = None
        for entry in as_list(book.get("prices")):
            entry = as_dict(entry)
            amount = money(entry.get("price"))
            if amount is None:
                continue
            condition = (
                Condition.USED
                if "used" in str(entry.get("condition", "")).lower()
                else Condition.NEW
            )
            if best is None or amount < best.amount:
                best = Offer(
                    provider=self.name,
                    kind=Kind.PRICE,
                    condition=condition,
                    amount=amount,
                    currency="USD",
                    url=safe_link(entry.get("link")),
                )
        if best is None and money(book.get("msrp")):
            best = Offer(
                provider=self.name,
                kind=Kind.PRICE,
                condition=Condition.NEW,
                amount=money(book.get("msrp")),
                currency="USD",
            )
        return best or Offer(provider=self.name, kind=Kind.NONE, reason="not_for_sale")
