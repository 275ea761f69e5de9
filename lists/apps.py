from django.apps import AppConfig


class ListsConfig(AppConfig):
    name = "lists"
    verbose_name = "Reading lists"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - list item events; built-in lists for new members
