"""Producers of list events (thin adapters, nothing else), and the built-in lists made
with each new account."""

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from bookshare.eventbus import publish

from .events import BookAddedToList, BookRemovedFromList, ReadingStatusChanged
from .models import ListItem


def item_payload(item: ListItem) -> dict:
    return {
        "item_id": item.pk,
        "list_id": item.list_id,
        "book_id": item.book_id,
        "user_id": item.owner_id,
        "list_kind": item.list.kind,
        "list_public": item.list.is_public,
    }


@receiver(post_save, sender=ListItem, dispatch_uid="lists.listitem_saved")
def listitem_saved(sender, instance: ListItem, created: bool, raw: bool = False, **kwargs):
    if raw:
        return
    if created:
        publish(BookAddedToList(**item_payload(instance)))
    elif instance.previous_status and instance.status != instance.previous_status:
        publish(
            ReadingStatusChanged(
                item_id=instance.pk,
                book_id=instance.book_id,
                user_id=instance.owner_id,
                previous_status=instance.previous_status,
                status=instance.status,
                list_public=instance.list.is_public,
            )
        )
    instance._loaded_status = instance.status


@receiver(post_delete, sender=ListItem, dispatch_uid="lists.listitem_deleted")
def listitem_deleted(sender, instance: ListItem, **kwargs):
    publish(BookRemovedFromList(**item_payload(instance)))


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="lists.user_builtin_lists")
def user_saved(sender, instance, created: bool, raw: bool = False, **kwargs):
    if created and not raw:
        from .services import lists_ensure_builtin

        lists_ensure_builtin(user=instance)
