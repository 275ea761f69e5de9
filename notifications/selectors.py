from .models import Notification


def notifications_for(*, user):
    """Newest first; one query per page (actor, post and request joined)."""
    return Notification.objects.filter(recipient=user).select_related("actor")


def unread_count(*, user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at=None).count()
