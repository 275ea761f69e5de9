from django.apps import AppConfig


class EventBusConfig(AppConfig):
    name = "bookshare.eventbus"
    label = "eventbus"
    verbose_name = "Event bus"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # Every app's consumers.py registers its consumers with @consumer.
        autodiscover_modules("consumers")
