"""Models whose save signals publish events save atomically, whoever calls save().

`publish()` refuses to run outside a transaction. A model whose post_save adapter
publishes mixes this in, so `obj.save()` from anywhere (a shell, `createsuperuser`, a
third-party app) writes the row and its event in one transaction. Deletes need no help:
Django's deletion collector already runs post_delete inside its own transaction.
"""

from django.db import router, transaction


class TransactionRequired(RuntimeError):
    """publish() was called outside a database transaction."""


class AtomicSaveMixin:
    def save(self, *args, **kwargs):
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            return super().save(*args, **kwargs)
