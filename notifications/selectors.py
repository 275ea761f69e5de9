from django.db.models import Count, Q

from .models import Notification


def notifications_for(*, user):
    """Newest first; one query per page (actor, post and request joined)."""
    return Notification.objects.filter(recipient=user).select_related("actor")


def unread_count(*, user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at=None).count()


def counts_for(*, user) -> dict[str, int]:
    """Total and unread in one query (the list page's paginator and its bell)."""
    return Notification.objects.filter(recipient=user).aggregate(
        total=Count("pk"), unread=Count("pk", filter=Q(read_at=None))
    )
