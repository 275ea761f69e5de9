from django.apps import AppConfig


class BooksConfig(AppConfig):
    name = "books"
    verbose_name = "Books"

    def ready(self) -> None:
        from . import (
            freshness,  # noqa: F401 - forgets cached counts when posts change
            signals,  # noqa: F401 - connects the producers of book events
        )
