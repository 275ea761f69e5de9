from django.apps import AppConfig


class EventBusConfig(AppConfig):
    name = "bookshare.eventbus"
    label = "eventbus"
    verbose_name = "Event bus"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # Every app's events.py registers its event classes (so any stored event can be
        # loaded and checked), and its consumers.py its consumers (@consumer).
        autodiscover_modules("events", "consumers")
