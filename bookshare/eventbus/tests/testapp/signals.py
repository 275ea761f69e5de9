from django.db.models.signals import post_save
from django.dispatch import receiver

from bookshare.eventbus import publish

from .events import WidgetCreated
from .models import Widget


@receiver(post_save, sender=Widget, dispatch_uid="eventbus_testapp.widget_created")
def widget_created(sender, instance, created, raw, **kwargs):
    if created and not raw:
        publish(WidgetCreated(widget_id=instance.pk, name=instance.name))
