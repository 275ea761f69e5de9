"""Catalogue consumers. Each runs inside the transaction that marks its delivery done,
so it only records the job (keyed by the event id) and sends a task after commit; the
provider requests happen in that task, outside any transaction (catalogue/jobs.py)."""

from bookshare.eventbus import consumer

from . import services
from .events import BookDetailsRequested, PriceComparisonRequested


@consumer(BookDetailsRequested, queue="catalogue", name="catalogue.request_details", batch_size=50)
def request_details(event: BookDetailsRequested, envelope: dict) -> None:
    services.details_job_open(book_id=event.book_id, event_id=envelope["id"])


@consumer(PriceComparisonRequested, queue="prices", name="catalogue.compare_prices")
def compare_prices(event: PriceComparisonRequested, envelope: dict) -> None:
    services.comparison_job_open(comparison_id=event.comparison_id, event_id=envelope["id"])
