"""The one Celery app. Workers: `celery -A bookshare worker -Q <queues>`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bookshare.settings")

app = Celery("bookshare")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Tasks live in each app's tasks.py; the event bus discovers consumers.py itself.
app.autodiscover_tasks()
