from django.apps import AppConfig


class ReactionsConfig(AppConfig):
    name = "reactions"
    verbose_name = "Likes and reviews"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the producers of reaction events
