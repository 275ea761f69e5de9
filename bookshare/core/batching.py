"""Walking a large table in primary-key order, a batch at a time."""

from collections.abc import Iterator

from django.db.models import QuerySet


def pk_batches(queryset: QuerySet, *, batch_size: int) -> Iterator[list[int]]:
    """Yield the primary keys of `queryset` in ascending batches (keyset pagination).

    Each batch is a fresh query starting after the last key seen, so rows added or
    removed meanwhile do not shift the batches, and no long transaction is held open.
    """
    last = None
    while True:
        qs = queryset.order_by("pk")
        if last is not None:
            qs = qs.filter(pk__gt=last)
        ids = list(qs.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return
        yield ids
        last = ids[-1]
