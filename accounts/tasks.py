"""Scheduled housekeeping of the accounts app (celery beat, see settings)."""

from celery import shared_task

from .services import unverified_release


@shared_task(name="accounts.release_unverified", ignore_result=True)
def release_unverified() -> int:
    """Delete accounts never verified within ACCOUNTS_UNVERIFIED_DAYS of joining."""
    return unverified_release()
