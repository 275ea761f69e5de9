"""Write paths for reading lists. Business rules live here; views, the importer, the admin
and the demo call them. Every item change goes through a ListItem save or delete, so its
event (lists/signals.py) is published in the same transaction."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .models import BUILTIN_KINDS, STATUS_KINDS, ListItem, ListKind, ReadingList

MAX_CUSTOM_LISTS = 200

# The hot write paths (status, add, remove, note) open a transaction when called alone
# and join the caller's when nested, without a savepoint of their own: a savepoint is two
# round trips, and an import applies thousands of rows, each in a savepoint of its own.
# They raise nothing inside the block (an error there would doom the enclosing one);
# services that validate input keep the ordinary @transaction.atomic.
atomic = transaction.atomic(savepoint=False)


@atomic
def lists_ensure_builtin(*, user) -> dict[str, ReadingList]:
    """The member's four built-in lists by kind, made if missing (safe to repeat)."""
    existing = {rl.kind: rl for rl in ReadingList.objects.filter(owner=user).exclude(kind="custom")}
    missing = [kind for kind in BUILTIN_KINDS if kind not in existing]
    if missing:
        ReadingList.objects.bulk_create(
            [ReadingList(owner=user, kind=kind, name=ListKind(kind).label) for kind in missing],
            ignore_conflicts=True,
        )
        existing = {
            rl.kind: rl for rl in ReadingList.objects.filter(owner=user).exclude(kind="custom")
        }
    return existing


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())[:100]
    if not name:
        raise ValidationError("A list needs a name.")
    return name


@transaction.atomic
def list_create(*, owner, name: str, description: str = "", is_public: bool = True) -> ReadingList:
    name = _clean_name(name)
    if ReadingList.objects.filter(owner=owner, kind=ListKind.CUSTOM).count() >= MAX_CUSTOM_LISTS:
        raise ValidationError(f"You can have up to {MAX_CUSTOM_LISTS} lists of your own.")
    if ReadingList.objects.filter(owner=owner, name__iexact=name).exists():
        raise ValidationError(f"You already have a list called “{name}”.")
    return ReadingList.objects.create(
        owner=owner,
        kind=ListKind.CUSTOM,
        name=name,
        description=(description or "").strip()[:2000],
        is_public=is_public,
    )


@transaction.atomic
def list_update(
    *, reading_list: ReadingList, name: str, description: str = "", is_public: bool = True
) -> ReadingList:
    """Built-in lists keep their names; any list may change its description and privacy."""
    if reading_list.kind == ListKind.CUSTOM:
        name = _clean_name(name)
        clash = ReadingList.objects.filter(owner_id=reading_list.owner_id, name__iexact=name)
        if clash.exclude(pk=reading_list.pk).exists():
            raise ValidationError(f"You already have a list called “{name}”.")
        reading_list.name = name
    reading_list.description = (description or "").strip()[:2000]
    reading_list.is_public = is_public
    reading_list.save()
    return reading_list


@transaction.atomic
def list_delete(*, reading_list: ReadingList) -> None:
    if reading_list.is_builtin:
        raise ValidationError("Built-in lists can't be deleted.")
    # Each item's BookRemovedFromList is published by the cascade's post_delete signals.
    for item in reading_list.items.select_related("list"):
        item.delete()
    reading_list.delete()


# A new item goes to the end of its list without reading the list: the list is ordered by
# (position, id), items placed by the owner hold 0…n-1, and new ones share END, so they
# follow in the order they came. Moving an item renumbers the list first when it must.
END = 2_000_000_000


def lock_member_statuses(*, user_id: int, kinds=STATUS_KINDS) -> None:
    """Serialise status changes of one member (PostgreSQL row locks; SQLite serialises
    every write anyway)."""
    list(
        ReadingList.objects.select_for_update()
        .filter(owner_id=user_id, kind__in=kinds)
        .values_list("pk", flat=True)
    )


def status_set(
    *,
    user,
    book,
    status: str | None,
    added_at: datetime.datetime | None = None,
    read_on: datetime.date | None = None,
    builtin: dict[str, ReadingList] | None = None,
    locked: bool = False,
) -> tuple[ListItem | None, bool]:
    """Put the book on the member's Want to read / Reading / Read list, or clear its
    status (`status=None`). A move from one status list to another keeps the item (one
    ReadingStatusChanged). Returns (item or None, changed).

    A caller applying many rows for one member (the importer) passes the member's
    `builtin` lists and takes the lock once (`locked=True`)."""
    if status is not None and status not in STATUS_KINDS:
        raise ValidationError("Unknown reading status.")
    with atomic:
        return _status_set(
            user=user,
            book=book,
            status=status,
            added_at=added_at,
            read_on=read_on,
            builtin=builtin,
            locked=locked,
        )


def _status_set(*, user, book, status, added_at, read_on, builtin, locked):
    if builtin is None:
        builtin = lists_ensure_builtin(user=user)
    if not locked:
        lock_member_statuses(user_id=user.pk)
    current = (
        ListItem.objects.select_related("list")
        .filter(owner_id=user.pk, book_id=book.pk)
        .exclude(status="")
        .first()
    )
    if status is None:
        if current is None:
            return None, False
        current.delete()
        return None, True
    target = builtin[status]
    if current is not None and current.status == status:
        if read_on and current.read_on != read_on:
            current.read_on = read_on
            current.save(update_fields=["read_on"])
            return current, True
        return current, False
    if current is not None:
        current.list = target
        current.status = status
        current.position = END
        if read_on:
            current.read_on = read_on
        current.save()
        return current, True
    item = ListItem(
        list=target,
        book=book,
        owner_id=user.pk,
        status=status,
        position=END,
        added_at=added_at or timezone.now(),
        read_on=read_on,
    )
    item.save()
    return item, True


@atomic
def list_add_book(
    *,
    reading_list: ReadingList,
    book,
    note: str = "",
    added_at: datetime.datetime | None = None,
    read_on: datetime.date | None = None,
) -> tuple[ListItem, bool]:
    """Add the book to the list (nothing happens if it is there already). Adding to a
    reading-status list sets the book's status, moving it from another status list."""
    if reading_list.is_status:
        item, changed = status_set(
            user=reading_list.owner,
            book=book,
            status=reading_list.kind,
            added_at=added_at,
            read_on=read_on,
        )
        return item, changed
    existing = ListItem.objects.filter(list=reading_list, book_id=book.pk).first()
    if existing is not None:
        return existing, False
    item = ListItem(
        list=reading_list,
        book=book,
        owner_id=reading_list.owner_id,
        position=END,
        note=(note or "").strip()[:280],
        added_at=added_at or timezone.now(),
    )
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:  # added meanwhile by a second click
        return ListItem.objects.get(list=reading_list, book_id=book.pk), False
    return item, True


@atomic
def list_remove_book(*, reading_list: ReadingList, book) -> bool:
    item = (
        ListItem.objects.select_related("list").filter(list=reading_list, book_id=book.pk).first()
    )
    if item is None:
        return False
    item.delete()
    return True


@transaction.atomic
def item_move(*, item: ListItem, direction: str) -> bool:
    """Swap the item with its neighbour above ("up") or below ("down")."""
    if direction not in ("up", "down"):
        raise ValidationError("Move up or down.")
    lock_member_statuses(user_id=item.owner_id, kinds=[item.list.kind])
    siblings = ListItem.objects.filter(list_id=item.list_id).exclude(pk=item.pk)
    p = item.position
    if direction == "up":  # the one just before in (position, id) order
        before = Q(position__lt=p) | Q(position=p, id__lt=item.pk)
        neighbour = siblings.filter(before).order_by("-position", "-id").first()
    else:
        after = Q(position__gt=p) | Q(position=p, id__gt=item.pk)
        neighbour = siblings.filter(after).order_by("position", "id").first()
    if neighbour is None:
        return False
    if neighbour.position == item.position:  # equal positions: make room first
        _renumber(item.list_id)
        item.refresh_from_db(fields=["position"])
        neighbour.refresh_from_db(fields=["position"])
    item_pos, neighbour_pos = neighbour.position, item.position
    ListItem.objects.filter(pk=item.pk).update(position=item_pos)
    ListItem.objects.filter(pk=neighbour.pk).update(position=neighbour_pos)
    item.position = item_pos
    return True


def _renumber(list_id: int) -> None:
    ids = list(
        ListItem.objects.filter(list_id=list_id)
        .order_by("position", "id")
        .values_list("pk", flat=True)
    )
    items = [ListItem(pk=pk, position=i) for i, pk in enumerate(ids)]
    ListItem.objects.bulk_update(items, ["position"], batch_size=500)


@transaction.atomic
def list_reorder(*, reading_list: ReadingList, item_ids: list[int]) -> None:
    """Put the given items (a page of the list, as dragged) in this order, keeping the
    positions they occupied between them."""
    lock_member_statuses(user_id=reading_list.owner_id, kinds=[reading_list.kind])
    items = list(ListItem.objects.filter(list=reading_list, pk__in=item_ids))
    if len(items) != len(set(item_ids)):
        raise ValidationError("Some of those items are not on this list any more.")
    if len({i.position for i in items}) != len(items):
        _renumber(reading_list.pk)
        items = list(ListItem.objects.filter(list=reading_list, pk__in=item_ids))
    slots = sorted(i.position for i in items)
    by_id = {i.pk: i for i in items}
    for slot, pk in zip(slots, item_ids, strict=True):
        by_id[pk].position = slot
    ListItem.objects.bulk_update(items, ["position"])


@atomic
def item_set_note(*, item: ListItem, note: str) -> ListItem:
    item.note = (note or "").strip()[:280]
    item.save(update_fields=["note"])
    return item


def import_start(*, user, filename: str, content: bytes):
    """Read an uploaded Goodreads or StoryGraph file and start its import job.

    Raises importer.ImportFileError (with a message for the member) for a file that can't
    be imported at all; then nothing is written. Rows that can't be read are stored as
    skipped with their reason; the rest wait for the `imports` queue, which the
    LibraryImportStarted event published here (in the job's transaction) sets going.
    """
    from .importer import ImportFileError, parse_upload
    from .models import ImportJob

    if ImportJob.objects.filter(owner=user).exclude(state=ImportJob.State.DONE).exists():
        raise ImportFileError(
            "Your previous import is still running. Upload this file when it has finished."
        )
    parsed = parse_upload(content)  # before the transaction: a bad file raises here
    with transaction.atomic():
        return _import_create(user=user, filename=filename, parsed=parsed)


def _import_create(*, user, filename: str, parsed):
    from bookshare.eventbus import publish

    from .events import LibraryImportStarted
    from .models import ImportJob, ImportRow

    broken = sum(1 for r in parsed.records if r.error)
    job = ImportJob.objects.create(
        owner=user,
        format=parsed.format,
        filename=(filename or "")[:255],
        total_rows=len(parsed.records),
        done_rows=broken,
        skipped=broken,
    )
    ImportRow.objects.bulk_create(
        [
            ImportRow(
                job=job,
                number=r.number,
                data=r.data,
                raw=r.raw[:10000],
                outcome=ImportRow.Outcome.SKIPPED if r.error else ImportRow.Outcome.PENDING,
                reason=r.error[:300],
            )
            for r in parsed.records
        ],
        batch_size=1000,
    )
    publish(
        LibraryImportStarted(
            job_id=job.pk, user_id=user.pk, format=job.format, total_rows=job.total_rows
        )
    )
    return job
