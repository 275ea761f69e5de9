from celery import shared_task


@shared_task(name="discovery.rebase")
def rebase() -> float:
    """Move the trending epoch to now (daily from beat), keeping stored scores small."""
    from . import trending

    return trending.rebase()


@shared_task(name="discovery.refresh_stalest")
def refresh_stalest() -> int:
    """Refresh the members with the oldest stored recommendations (beat)."""
    from . import taste

    return taste.refresh_stalest()
