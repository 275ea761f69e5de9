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


@shared_task(name="discovery.refresh_member", ignore_result=True)
def refresh_member(user_id: int) -> bool:
    """Recompute one member's stored recommendations if they are still marked (sent by
    taste.mark_dirty when the first event that needs it commits)."""
    from . import taste

    return taste.refresh_pending(user_id)
