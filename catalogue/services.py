"""Write paths of the catalogue app: opening fetch jobs (from consumers, inside their
transaction) and asking for a price comparison (from the book page)."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from books.models import Book
from bookshare.core import cache
from bookshare.eventbus import publish

from . import providers
from .events import PriceComparisonRequested
from .models import BookDetails, JobStatus, PriceComparison

log = logging.getLogger(__name__)

# A freshly opened job is left to the task sent on commit for this long before the
# resume sweep sends it again.
FIRST_SEND_GRACE = timedelta(seconds=30)


def _send_task(name: str, object_id: int, queue: str) -> None:
    """Send a Celery task after commit. A broker failure is logged: resume_jobs (beat)
    sends the job again once its lease has passed."""
    from bookshare.celery import app

    def send():
        try:
            app.send_task(name, args=[object_id], queue=queue)
        except Exception:  # noqa: BLE001 - the sweep recovers; the request must not fail
            log.warning("could not send %s(%s); the resume sweep will", name, object_id)

    transaction.on_commit(send)


@transaction.atomic
def details_job_open(*, book_id: int, event_id: str) -> BookDetails | None:
    """BookDetailsRequested: note that the book wants details, keyed by the event, and
    have a worker fetch them (outside this transaction)."""
    if not Book.objects.filter(pk=book_id).exists():
        return None
    key = uuid.UUID(str(event_id))
    details, created = BookDetails.objects.select_for_update().get_or_create(book_id=book_id)
    if not created and details.request_event_id == key:
        return details  # this event was taken already
    if (
        details.status == JobStatus.RUNNING
        and details.lease_until
        and (details.lease_until > timezone.now())
    ):
        details.request_event_id = key
        details.save(update_fields=["request_event_id"])
        return details  # a fetch is under way; it will pick up the latest state
    details.status = JobStatus.PENDING
    details.request_event_id = key
    details.attempts = 0
    details.lease_until = timezone.now() + FIRST_SEND_GRACE
    details.save()
    _send_task("catalogue.fetch_details", book_id, "catalogue")
    return details


@transaction.atomic
def comparison_job_open(*, comparison_id: int, event_id: str) -> PriceComparison | None:
    """PriceComparisonRequested: the comparison takes the event as its idempotency key
    and a worker asks the providers (outside this transaction). A repeated event for the
    same comparison changes nothing."""
    comparison = PriceComparison.objects.select_for_update().filter(pk=comparison_id).first()
    if comparison is None or comparison.status != JobStatus.PENDING:
        return comparison
    if comparison.event_id is not None:
        return comparison
    comparison.event_id = uuid.UUID(str(event_id))
    comparison.lease_until = timezone.now() + FIRST_SEND_GRACE
    comparison.save(update_fields=["event_id", "lease_until"])
    _send_task("catalogue.run_comparison", comparison.pk, "prices")
    return comparison


def prices_max_age() -> timedelta:
    return timedelta(hours=float(settings.PRICES_MAX_AGE_HOURS))


def latest_comparison(*, book: Book) -> PriceComparison | None:
    return PriceComparison.objects.filter(book=book).order_by("-created_at", "-id").first()


def _member_may_ask(member) -> bool:
    limit = int(settings.PRICES_REQUESTS_PER_HOUR)
    key = f"catalogue:prices:member:{member.pk}:{int(timezone.now().timestamp() // 3600)}"
    return cache.incr_window(key, timeout=3600) <= limit  # per process while the cache is down


@transaction.atomic
def comparison_request(*, book: Book, member) -> tuple[PriceComparison, bool]:
    """A member asks for prices. Reuses a running comparison or one younger than
    PRICES_MAX_AGE_HOURS; otherwise starts one (at most one running per book) and
    publishes PriceComparisonRequested. Returns (comparison, started)."""
    if not book.isbn13:
        raise ValidationError("Prices can only be compared for a book with an ISBN.")
    latest = latest_comparison(book=book)
    if latest is not None and (
        latest.waiting
        or (latest.finished_at and latest.finished_at > timezone.now() - prices_max_age())
    ):
        return latest, False
    if not providers.enabled():
        raise ValidationError("Price comparison is switched off on this site.")
    if not _member_may_ask(member):
        raise ValidationError(
            "You have asked for many price comparisons this hour. Please try again later."
        )
    try:
        with transaction.atomic():
            comparison = PriceComparison.objects.create(book=book, requested_by=member)
    except IntegrityError:  # another request started one for this book just now
        running = PriceComparison.objects.filter(
            book=book, status__in=[JobStatus.PENDING, JobStatus.RUNNING]
        ).first()
        if running is None:
            raise
        return running, False
    publish(
        PriceComparisonRequested(
            comparison_id=comparison.pk,
            book_id=book.pk,
            isbn13=book.isbn13,
            requested_by_id=member.pk,
        )
    )
    return comparison, True
