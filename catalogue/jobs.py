"""The work that talks to providers. Everything here runs OUTSIDE database transactions:
a job is claimed with one short UPDATE, the providers are asked with no transaction
open (the HTTP client refuses otherwise), and the results are written in one short
transaction at the end. A job claimed by a worker that died is taken again after its
lease (CATALOGUE_JOB_LEASE_SECONDS) by the resume sweep (beat, every minute)."""

from __future__ import annotations

import dataclasses
import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from books.models import Author, Book, BookAuthor, Genre, Language
from books.services import book_edited, book_match_key
from books.text import normalize
from bookshare.core import cache as safe_cache

from . import images, providers
from .models import BookDetails, JobStatus, PriceComparison, PriceQuote
from .providers import BookData, Offer, ProviderError
from .providers.http import ProviderClient, RequestInTransaction, default_limits

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
LOOKUP_CACHE_SECONDS = 60 * 60


def ensure_outside_transaction(what: str) -> None:
    if connection.in_atomic_block:
        raise RequestInTransaction(f"{what} must not run inside a database transaction")


def placeholder_title(isbn13: str) -> str:
    return f"ISBN {isbn13}"


# -- asking several providers at once -----------------------------------------------------
@dataclass
class Gathered:
    data: BookData | None = None
    problems: dict[str, str] = field(default_factory=dict)  # provider label → reason key
    asked: int = 0

    @property
    def all_failed(self) -> bool:
        return self.asked > 0 and len(self.problems) == self.asked


def gather_details(isbn13: str, *, fast: bool) -> Gathered:
    """Every enabled provider's details for `isbn13`, merged (Open Library first).

    `fast` (a person is waiting): no retries, and whatever has not answered within
    CATALOGUE_LOOKUP_TIMEOUT counts as too slow.
    """
    ensure_outside_transaction("a provider lookup")
    clients = providers.enabled(fast=fast)
    result = Gathered(asked=len(clients))
    if not clients:
        return result
    budget = float(settings.CATALOGUE_LOOKUP_TIMEOUT) if fast else None
    pool = ThreadPoolExecutor(max_workers=len(clients), thread_name_prefix="lookup")
    try:
        futures = {pool.submit(c.lookup, isbn13): c for c in clients}
        done, _ = futures_wait(futures, timeout=budget)
        for future, client in futures.items():
            if future not in done:
                result.problems[client.label] = "timeout"
                continue
            try:
                found = future.result()
            except ProviderError as exc:
                result.problems[client.label] = exc.reason
                continue
            except Exception:
                log.exception("provider %s failed on lookup", client.name)
                result.problems[client.label] = "bad_response"
                continue
            if found is not None:
                result.data = found if result.data is None else result.data.merge(found)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return result


def lookup_for_form(isbn13: str) -> Gathered:
    """The post form's lookup, cached for an hour per ISBN when it got an answer."""
    key = f"catalogue:lookup:{isbn13}"
    cached = safe_cache.get(key)  # with the cache down: no cached answers, no failure
    if cached is not None:
        return Gathered(data=BookData(**cached) if cached else None, asked=1)
    result = gather_details(isbn13, fast=True)
    if result.data is not None:
        safe_cache.set(key, vars(result.data), LOOKUP_CACHE_SECONDS)
    elif not result.problems and result.asked:
        safe_cache.set(key, {}, LOOKUP_CACHE_SECONDS)  # known unknown
    return result


def gather_offers(isbn13: str) -> list[Offer]:
    ensure_outside_transaction("a price comparison")
    clients = providers.enabled()
    if not clients:
        return []

    def ask(client) -> Offer:
        try:
            return client.offer(isbn13)
        except ProviderError as exc:
            return Offer(provider=client.name, kind=providers.Kind.NONE, reason=exc.reason)
        except Exception:
            log.exception("provider %s failed on offer", client.name)
            return Offer(provider=client.name, kind=providers.Kind.NONE, reason="bad_response")

    with ThreadPoolExecutor(max_workers=len(clients), thread_name_prefix="offer") as pool:
        return list(pool.map(ask, clients))


# -- claiming -----------------------------------------------------------------------------
def _lease() -> timedelta:
    return timedelta(seconds=int(settings.CATALOGUE_JOB_LEASE_SECONDS))


def _claim(model, pk_field: str, pk: int) -> bool:
    now = timezone.now()
    due = Q(status=JobStatus.PENDING) | Q(status=JobStatus.RUNNING, lease_until__lt=now)
    claimed = (
        model.objects.filter(due, **{pk_field: pk})
        .exclude(attempts__gte=MAX_ATTEMPTS + 2)
        .update(
            status=JobStatus.RUNNING,
            lease_until=now + _lease(),
            attempts=F("attempts") + 1,
        )
    )
    return claimed == 1


# -- book details -------------------------------------------------------------------------
def cover_limits():
    limits = default_limits()
    cap = min(limits.max_bytes, int(settings.BOOKS_COVER_MAX_BYTES))
    return dataclasses.replace(limits, max_bytes=cap)


def fetch_cover(url: str, *, from_provider: bool = False) -> tuple[object | None, str]:
    """(a re-encoded image file, "") or (None, why not). Outside transactions only.

    Whoever gave the URL (a member or a provider), it is fetched under the address guard
    (providers/http.py): its host resolved once and refused unless every address is
    public, the connection made to the checked address, each redirect checked the same
    way, only image types read, at most BOOKS_COVER_MAX_BYTES."""
    if not url:
        return None, ""
    try:
        host = (httpx.URL(url).host or "?").lower()[:60]
    except (httpx.InvalidURL, TypeError, ValueError):
        return None, "The cover address is not a public web address."
    client = ProviderClient(
        name=f"covers:{host}",
        base_url="",
        headers={"Accept": "image/jpeg,image/png,image/gif,image/webp"},
        limits=cover_limits(),
        guard=True,
    )
    try:
        body = client.get_bytes(url)
    except ProviderError as exc:
        if exc.reason == "refused":
            return None, "The cover address is not a public web address."
        if exc.reason == "not_image":
            return None, "There is no image at the cover address."
        return None, f"The cover could not be fetched ({providers.REASONS[exc.reason]})."
    if not body:
        return None, "There is no image at the cover address."
    try:
        return images.reencode(body), ""
    except ValidationError as exc:
        return None, f"The cover was refused: {exc.messages[0]}"


def details_run(*, book_id: int) -> str:
    """Fetch a book's details and cover and apply them. Returns what happened."""
    ensure_outside_transaction("details_run")
    if not _claim(BookDetails, "book_id", book_id):
        return "not due"
    book = Book.objects.filter(pk=book_id).first()
    if book is None:
        return "gone"
    details = BookDetails.objects.get(pk=book_id)
    gathered = gather_details(book.isbn13, fast=False) if book.isbn13 else Gathered()
    if gathered.all_failed and details.attempts < MAX_ATTEMPTS:
        # Every provider failed: try again later (the sweep sends it after the lease).
        BookDetails.objects.filter(pk=book_id).update(
            status=JobStatus.PENDING,
            lease_until=timezone.now() + timedelta(seconds=30 * details.attempts),
            note="Outside catalogues are not answering; trying again shortly.",
        )
        return "retry"
    cover, cover_note = None, ""
    if not book.cover:
        # The member's URL first (fetched once, never shown), then the provider's.
        candidates = [(book.cover_url, False)]
        if gathered.data:
            candidates.append((gathered.data.cover_url, True))
        for url, from_provider in candidates:
            cover, note = fetch_cover(url, from_provider=from_provider)
            cover_note = cover_note or note
            if cover is not None:
                details.cover_source_url = url
                cover_note = ""
                break
    return _details_apply(book_id=book_id, data=gathered, cover=cover, cover_note=cover_note)


def _genres_for(subjects: list[str]) -> list[Genre]:
    genres = list(Genre.objects.all())
    picked: list[Genre] = []
    for subject in subjects:
        words = f" {normalize(subject)} "
        for genre in genres:
            name = normalize(genre.name)
            if genre not in picked and name and f" {name} " in words:
                picked.append(genre)
    return picked[:3]


@transaction.atomic
def _details_apply(*, book_id: int, data: Gathered, cover, cover_note: str) -> str:
    book = Book.objects.select_for_update().filter(pk=book_id).first()
    details = BookDetails.objects.select_for_update().filter(pk=book_id).first()
    if book is None or details is None:
        return "gone"
    found = data.data
    changed: list[str] = []
    placeholder = book.title == placeholder_title(book.isbn13 or "")
    if found is not None:
        if placeholder and found.title:
            book.title, book.subtitle = found.title[:300], found.subtitle[:300]
            changed += ["title", "subtitle"]
            if found.language in Language.values:
                book.language = found.language
                changed.append("language")
        for name, limit in (("publisher", 200), ("description", 5000)):
            if not getattr(book, name) and getattr(found, name):
                setattr(book, name, getattr(found, name)[:limit])
                changed.append(name)
        if not book.year and found.year and 1450 <= found.year <= 2100:
            book.year = found.year
            changed.append("year")
        if found.authors and not book.credits.exists():
            from books.services import author_get_or_create

            authors: list[Author] = []
            for name in found.authors:
                author = author_get_or_create(name=name)
                if author not in authors:
                    authors.append(author)
            BookAuthor.objects.bulk_create(
                [BookAuthor(book=book, author=a, position=i) for i, a in enumerate(authors)]
            )
            book.match_key = book_match_key(title=book.title, first_author=authors[0].name)
            changed.append("match_key")
        if not book.genres.exists():
            genres = _genres_for(found.subjects)
            if genres:
                book.genres.set(genres)
        details.pages = details.pages or found.pages
        details.subjects = found.subjects[:30]
        details.sources = [found.source]
    if cover is not None and not book.cover:
        book.cover.save(cover.name, cover, save=False)
        changed.append("cover")
    if changed:
        book.save(update_fields=sorted(set(changed)))
    details.status = JobStatus.DONE
    details.fetched_at = timezone.now()
    details.lease_until = None
    details.cover_note = cover_note[:200]
    if found is None:
        details.note = (
            "Outside catalogues are not answering; the details may be added later."
            if data.all_failed
            else "Outside catalogues do not know this ISBN."
            if data.asked
            else ""
        )
    else:
        details.note = ""
    details.save()
    if changed:
        book_edited(book=book, republish=True)
    return "done"


# -- prices -------------------------------------------------------------------------------
def comparison_run(*, comparison_id: int) -> str:
    ensure_outside_transaction("comparison_run")
    if not _claim(PriceComparison, "pk", comparison_id):
        return "not due"
    comparison = PriceComparison.objects.select_related("book").get(pk=comparison_id)
    PriceComparison.objects.filter(pk=comparison_id, started_at__isnull=True).update(
        started_at=timezone.now()
    )
    offers = gather_offers(comparison.book.isbn13 or "")
    return _comparison_store(comparison_id=comparison_id, offers=offers)


@transaction.atomic
def _comparison_store(*, comparison_id: int, offers: list[Offer]) -> str:
    comparison = PriceComparison.objects.select_for_update().get(pk=comparison_id)
    if comparison.status == JobStatus.DONE:
        return "done already"
    now = timezone.now()
    for offer in offers:
        PriceQuote.objects.get_or_create(
            comparison=comparison,
            provider=offer.provider,
            defaults={
                "kind": offer.kind,
                "condition": offer.condition,
                "amount": offer.amount,
                "currency": offer.currency[:3],
                "url": offer.url[:500],
                "reason": offer.reason[:30],
                "fetched_at": now,
            },
        )
    comparison.status = JobStatus.DONE
    comparison.finished_at = now
    comparison.lease_until = None
    comparison.save(update_fields=["status", "finished_at", "lease_until"])
    return "done"


# -- the sweep ----------------------------------------------------------------------------
def resume() -> int:
    """Send again every job whose lease has passed (its task was lost or its worker
    died). Jobs that keep failing stop after a few attempts."""
    from bookshare.celery import app

    now = timezone.now()
    due = Q(status__in=[JobStatus.PENDING, JobStatus.RUNNING], lease_until__lt=now)
    sent = 0
    for book_id in BookDetails.objects.filter(due, attempts__lt=MAX_ATTEMPTS + 2).values_list(
        "book_id", flat=True
    )[:500]:
        app.send_task("catalogue.fetch_details", args=[book_id], queue="catalogue")
        sent += 1
    for pk in PriceComparison.objects.filter(due, attempts__lt=MAX_ATTEMPTS + 2).values_list(
        "pk", flat=True
    )[:500]:
        app.send_task("catalogue.run_comparison", args=[pk], queue="prices")
        sent += 1
    # Comparisons that can no longer run end, so the book can be compared again.
    PriceComparison.objects.filter(due, attempts__gte=MAX_ATTEMPTS + 2).update(
        status=JobStatus.FAILED, finished_at=now, lease_until=None
    )
    return sent
