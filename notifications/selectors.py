"""Read paths of the notifications app.

A member's counts (total and unread) are read on every signed-in page (the bell) and on
the list page (its paginator). They are kept in the shared cache for COUNTS_SECONDS,
and forgotten after every commit that changes them (services.counts_forget: a new
notification, one or all marked read), so the bell is right at its next poll. With the
cache down, or a per-process cache, they are counted in the database as before.
"""

from django.db.models import Count, Q

from bookshare.core import cache

from .models import Notification

# The longest a count can be stale if an invalidation is lost (a worker dying between
# its commit and the cache delete, the cache down while a count changed).
COUNTS_SECONDS = 60


def counts_key(user_id: int) -> str:
    return f"notifications:counts:{user_id}"


# What the list shows of a row (and its actor's name): not the actor's whole user row.
LIST_FIELDS = (
    "id",
    "kind",
    "title",
    "detail",
    "actor_count",
    "read_at",
    "updated_at",
    "post_id",
    "request_id",
    "actor__username",
)


def notifications_for(*, user):
    """Newest first; one query per page (the actor's name joined)."""
    return Notification.objects.filter(recipient=user).select_related("actor").only(*LIST_FIELDS)


def _count(user) -> dict[str, int]:
    return Notification.objects.filter(recipient=user).aggregate(
        total=Count("pk"), unread=Count("pk", filter=Q(read_at=None))
    )


def counts_for(*, user) -> dict[str, int]:
    """Total and unread: from the cache, else one query (then cached)."""
    if not cache.is_shared():
        return _count(user)
    key = counts_key(user.pk)
    counts = cache.get(key)
    if counts is None:
        counts = _count(user)
        cache.set(key, counts, timeout=COUNTS_SECONDS)
    return counts


def unread_count(*, user) -> int:
    if not user.is_authenticated:
        return 0
    if cache.is_shared():
        return counts_for(user=user)["unread"]
    return Notification.objects.filter(recipient=user, read_at=None).count()
