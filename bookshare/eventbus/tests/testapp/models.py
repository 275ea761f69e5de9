from django.db import models

from bookshare.eventbus import AtomicSaveMixin


class Effect(models.Model):
    """One row per consumer run that committed. No unique key, so duplicates would show."""

    consumer = models.CharField(max_length=50)
    key = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.consumer}:{self.key}"


class FailPlan(models.Model):
    """The flaky consumer fails its first `failures_left` attempts (or always) for `key`."""

    key = models.CharField(max_length=100, unique=True)
    failures_left = models.IntegerField(default=0)
    always = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.key


class Widget(AtomicSaveMixin, models.Model):
    """A model whose creation publishes WidgetCreated from a signal, like the real apps."""

    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name
