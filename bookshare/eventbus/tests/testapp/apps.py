from django.apps import AppConfig


class EventBusTestAppConfig(AppConfig):
    """Installed only by bookshare.test_settings: events and consumers for bus tests."""

    name = "bookshare.eventbus.tests.testapp"
    label = "eventbus_testapp"

    def ready(self) -> None:
        from . import signals  # noqa: F401
