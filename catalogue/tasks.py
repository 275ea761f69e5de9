"""Celery tasks that run the catalogue's HTTP work outside any database transaction.

They are sent after commit by the consumers (catalogue/consumers.py) and again by the
resume sweep; each is safe to receive any number of times (a job is claimed first)."""

from celery import shared_task

from . import jobs


@shared_task(name="catalogue.fetch_details", acks_late=True, ignore_result=True)
def fetch_details(book_id: int) -> str:
    return jobs.details_run(book_id=book_id)


@shared_task(name="catalogue.run_comparison", acks_late=True, ignore_result=True)
def run_comparison(comparison_id: int) -> str:
    return jobs.comparison_run(comparison_id=comparison_id)


@shared_task(name="catalogue.resume_jobs", ignore_result=True, expires=50)
def resume_jobs() -> int:
    return jobs.resume()
