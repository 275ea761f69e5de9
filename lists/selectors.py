"""Read paths for list pages and the list buttons. Private lists are returned only to
their owner: every page goes through these."""

from __future__ import annotations

from django.db import connection
from django.db.models import Count, Q, QuerySet

from .models import BUILTIN_KINDS, ImportJob, ListItem, ListKind, ReadingList

_KIND_ORDER = {kind: i for i, kind in enumerate(BUILTIN_KINDS)}


def _sorted(lists) -> list[ReadingList]:
    return sorted(lists, key=lambda rl: (_KIND_ORDER.get(rl.kind, 99), rl.name.lower(), rl.pk))


def lists_visible(*, viewer) -> QuerySet[ReadingList]:
    """Every list the viewer may see: public ones and their own."""
    if viewer is not None and viewer.is_authenticated:
        return ReadingList.objects.filter(Q(is_public=True) | Q(owner_id=viewer.pk))
    return ReadingList.objects.filter(is_public=True)


def lists_of_member(*, member, viewer) -> list[ReadingList]:
    """A member's lists as the viewer may see them, built-ins first, with item counts."""
    qs = lists_visible(viewer=viewer).filter(owner=member).annotate(item_count=Count("items"))
    return _sorted(qs)


def list_get(*, pk: int, viewer) -> ReadingList | None:
    """The list if the viewer may see it (`ReadingList.visible_to`), with its owner."""
    found = ReadingList.objects.select_related("owner").filter(pk=pk).first()
    return found if found is not None and found.visible_to(viewer) else None


def list_items(*, reading_list: ReadingList) -> QuerySet[ListItem]:
    """The list's items in order with their books; the page's authors come after
    pagination, in one query (`books.selectors.attach_credits`)."""
    return (
        ListItem.objects.filter(list=reading_list).select_related("book").order_by("position", "id")
    )


def memberships(*, user, book_ids) -> dict[int, set[int]]:
    """book id → ids of the member's lists it is on."""
    found: dict[int, set[int]] = {book_id: set() for book_id in book_ids}
    rows = (
        ListItem.objects.filter(owner_id=user.pk, book_id__in=list(found))
        .order_by()  # no join to the lists for ListItem's default order
        .values_list("book_id", "list_id")
    )
    for book_id, list_id in rows:
        found[book_id].add(list_id)
    return found


def viewer_lists_and_memberships(
    *, user, book_ids
) -> tuple[list[ReadingList], dict[int, set[int]]]:
    """The member's own lists for the buttons (built-ins first, then by name) and
    `memberships()`, in ONE plain query: each list joined to its items among `book_ids`.
    The buttons are on the hottest pages (book, post, search), where the ORM's compiling
    of two queries cost more than running them."""
    found: dict[int, set[int]] = {book_id: set() for book_id in book_ids}
    quote = connection.ops.quote_name
    lists, items = quote(ReadingList._meta.db_table), quote(ListItem._meta.db_table)
    marks = ", ".join(["%s"] * len(found)) or "NULL"
    # Only table names from the models' metadata and placeholders are formatted in.
    sql = f"""
        SELECT rl.id, rl.owner_id, rl.kind, rl.name, li.book_id
        FROM {lists} rl
        LEFT JOIN {items} li ON li.list_id = rl.id AND li.book_id IN ({marks})
        WHERE rl.owner_id = %s"""  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*found, user.pk])
        rows = cursor.fetchall()
    by_id: dict[int, ReadingList] = {}
    fields = ["id", "owner_id", "kind", "name"]
    for list_id, owner_id, kind, name, book_id in rows:
        if list_id not in by_id:
            values = [list_id, owner_id, kind, name]
            by_id[list_id] = ReadingList.from_db(connection.alias, fields, values)
        if book_id is not None:
            found[book_id].add(list_id)
    return _sorted(by_id.values()), found


def status_label(kind: str) -> str:
    return ListKind(kind).label if kind in ListKind.values else ""


def import_jobs_of(*, user) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(owner=user).order_by("-created_at", "-id")
