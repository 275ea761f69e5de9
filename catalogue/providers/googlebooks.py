"""Google Books: `/volumes?q=isbn:{isbn}` with an optional API key and the country whose
shop to ask (settings.PRICES_COUNTRY). Metadata from `volumeInfo`; e-book prices from
`saleInfo` (saleability, retailPrice/listPrice with amount and currencyCode, buyLink)."""

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
from .http import ProviderError


class GoogleBooks(Provider):
    name = "googlebooks"
    label = "Google Books"
    per_second = 5

    @classmethod
    def url_setting(cls) -> str:
        return settings.GOOGLE_BOOKS_URL

    def _volume(self, isbn13: str) -> dict | None:
        params = {"q": f"isbn:{isbn13}", "country": settings.PRICES_COUNTRY, "maxResults": 1}
        if settings.GOOGLE_BOOKS_API_KEY:
            params["key"] = settings.GOOGLE_BOOKS_API_KEY
        answer = self.client.get_json("/volumes", params=params)
        if answer is None:
            return None
        if not isinstance(answer, dict) or "totalItems" not in answer:
            raise ProviderError("bad_response", "googlebooks: not a volumes answer")
        items = as_list(answer.get("items"))
        return as_dict(items[0]) if items else None

    def lookup(self, isbn13: str) -> BookData | None:
        volume = self._volume(isbn13)
        if volume is None:
            return None
        info = as_dict(volume.get("volumeInfo"))
        if not info.get("title"):
            return None
        images = as_dict(info.get("imageLinks"))
        cover = safe_link(images.get("thumbnail") or images.get("smallThumbnail"))
        return BookData(
            source=self.name,
            title=text(info.get("title"), 300),
            subtitle=text(info.get("subtitle"), 300),
            authors=[text(a, 200) for a in as_list(info.get("authors"))[:10] if text(a, 200)],
            publisher=text(info.get("publisher"), 200),
            year=year_from(info.get("publishedDate")),
            pages=positive_int(info.get("pageCount")),
            description=text(info.get("description"), 5000),
            subjects=[text(c, 80) for c in as_list(info.get("categories")) if text(c, 80)],
            cover_url=cover.replace("http://", "https://", 1) if cover else "",
            language=text(info.get("language"), 2),
            link=safe_link(info.get("canonicalVolumeLink") or info.get("infoLink")),
        )

    def offer(self, isbn13: str) -> Offer:
        volume = self._volume(isbn13)
        if volume is None:
            return Offer(provider=self.name, kind=Kind.NONE, reason="not_found")
        sale = as_dict(volume.get("saleInfo"))
        if sale.get("saleability") not in ("FOR_SALE", "FREE", "FOR_SALE_AND_RENTAL"):
            return Offer(provider=self.name, kind=Kind.NONE, reason="not_for_sale")
        price = as_dict(sale.get("retailPrice")) or as_dict(sale.get("listPrice"))
        amount = money(price.get("amount", 0 if sale.get("saleability") == "FREE" else None))
        currency = text(price.get("currencyCode"), 3).upper()
        if amount is None:
            return Offer(provider=self.name, kind=Kind.NONE, reason="not_for_sale")
        return Offer(
            provider=self.name,
            kind=Kind.PRICE,
            condition=Condition.EBOOK,
            amount=amount,
            currency=currency or "",
            url=safe_link(sale.get("buyLink"))
            or safe_link(as_dict(volume.get("volumeInfo")).get("infoLink")),
        )
