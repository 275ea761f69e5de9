from celery import shared_task


@shared_task(name="discovery.rebase")
def rebase() -> float:
    """Move the trending epoch to now (daily from beat), keeping stored scores small."""
    from . import trending

    return trending.rebase()
