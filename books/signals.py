"""Producers of book events: thin post_save/post_delete adapters."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from bookshare.eventbus import publish

from .events import BookPostCreated, BookPostRemoved, BookPostUpdated
from .models import BookPost


@receiver(post_save, sender=BookPost, dispatch_uid="books.bookpost_saved")
def bookpost_saved(sender, instance: BookPost, created: bool, raw: bool = False, **kwargs):
    if raw:
        return
    if created:
        publish(
            BookPostCreated(
                post_id=instance.pk,
                book_id=instance.book_id,
                owner_id=instance.owner_id,
                offer=instance.offer,
                status=instance.status,
                title=instance.book.title,
                isbn13=instance.book.isbn13 or None,
            )
        )
    else:
        publish(
            BookPostUpdated(
                post_id=instance.pk,
                book_id=instance.book_id,
                owner_id=instance.owner_id,
                offer=instance.offer,
                status=instance.status,
                previous_status=instance.previous_status,
            )
        )


@receiver(post_delete, sender=BookPost, dispatch_uid="books.bookpost_deleted")
def bookpost_deleted(sender, instance: BookPost, **kwargs):
    publish(
        BookPostRemoved(post_id=instance.pk, book_id=instance.book_id, owner_id=instance.owner_id)
    )
