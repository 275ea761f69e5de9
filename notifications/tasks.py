from celery import shared_task


@shared_task(name="notifications.send_digests", ignore_result=True)
def send_digests() -> int:
    """The daily digest (celery beat, see CELERY_BEAT_SCHEDULE)."""
    from .services import digest_send_all

    return digest_send_all()
