"""Reactions to list events: the library import, one bounded batch per delivery."""

from bookshare.eventbus import consumer

from . import importer
from .events import LibraryImportBatchDue, LibraryImportStarted


@consumer(LibraryImportStarted, LibraryImportBatchDue, queue="imports", name="lists.import_batch")
def import_batch(event, envelope: dict) -> None:
    """Apply the job's next batch of rows in this delivery's transaction, then publish the
    event for the batch after it. The job row is locked, its pending rows are read fresh:
    a repeated or late delivery finds nothing left to do, or does the next batch once."""
    batch = getattr(event, "batch", 0)
    importer.run_batch(job_id=event.job_id, batch=batch)
