from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "bookshare.core"
    label = "core"
    verbose_name = "Site"
