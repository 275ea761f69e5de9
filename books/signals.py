"""Producers of book events: thin post_save/post_delete adapters (and, after commit, the
genre counts forgotten when a post comes, goes or changes status)."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from bookshare.eventbus import publish

from .events import BookPostCreated, BookPostRemoved, BookPostUpdated
from .models import BookPost
from .selectors import forget_genre_post_counts


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
    if created or instance.status != instance.previous_status:
        # The genre counts (home and genre pages) include this post or not any more.
        transaction.on_commit(forget_genre_post_counts)
    instance._loaded_status = instance.status


@receiver(post_delete, sender=BookPost, dispatch_uid="books.bookpost_deleted")
def bookpost_deleted(sender, instance: BookPost, **kwargs):
    publish(
        BookPostRemoved(post_id=instance.pk, book_id=instance.book_id, owner_id=instance.owner_id)
    )
    transaction.on_commit(forget_genre_post_counts)
