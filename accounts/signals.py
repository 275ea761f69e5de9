"""Producers of account events: thin post_save adapters, nothing else."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from bookshare.eventbus import publish

from .events import UserRegistered
from .models import User


@receiver(post_save, sender=User, dispatch_uid="accounts.publish_user_registered")
def publish_user_registered(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        publish(
            UserRegistered(user_id=instance.pk, email=instance.email, username=instance.username)
        )
