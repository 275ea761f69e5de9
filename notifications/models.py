"""Notifications for members, their grouping, and email preferences.

A Notification is one row per recipient. Similar ones group: likes on one post while the
row is unread are one row that gains actors ("ada and 3 others liked your post"). The
target is kept twice: nullable foreign keys (set to NULL when the post or request goes)
and a title snapshot, so an old notification still reads well and never links to a 404.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from bookshare.core.links import url_for_pk


class Kind(models.TextChoices):
    COPY_REQUESTED = "copy_requested", "Someone asks for one of your books"
    REQUEST_ACCEPTED = "request_accepted", "Your request was accepted"
    REQUEST_DECLINED = "request_declined", "Your request was declined"
    REQUEST_CANCELLED = "request_cancelled", "A request for your book was cancelled"
    COPY_HANDED_OVER = "copy_handed_over", "A book was handed over to you"
    COPY_RECEIVED = "copy_received", "Your book was received"
    LOAN_RETURNED = "loan_returned", "A loan was returned"
    REQUEST_MESSAGE = "request_message", "A message about a request"
    POST_LIKED = "post_liked", "Likes on your posts"
    WISHLIST_POSTED = "wishlist_posted", "A book on your Want to read list was posted"


class Delivery(models.TextChoices):
    SITE = "site", "On the site only"
    IMMEDIATE = "immediate", "An email at once"
    DIGEST = "digest", "A daily digest email"


# What a member gets until they choose otherwise.
DEFAULT_DELIVERY = {
    Kind.COPY_REQUESTED: Delivery.IMMEDIATE,
    Kind.REQUEST_ACCEPTED: Delivery.IMMEDIATE,
    Kind.REQUEST_DECLINED: Delivery.DIGEST,
    Kind.REQUEST_CANCELLED: Delivery.DIGEST,
    Kind.COPY_HANDED_OVER: Delivery.IMMEDIATE,
    Kind.COPY_RECEIVED: Delivery.DIGEST,
    Kind.LOAN_RETURNED: Delivery.DIGEST,
    Kind.REQUEST_MESSAGE: Delivery.IMMEDIATE,
    Kind.POST_LIKED: Delivery.SITE,
    Kind.WISHLIST_POSTED: Delivery.DIGEST,
}
GROUPED_KINDS = {Kind.POST_LIKED}


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The event that made this row; (event, recipient) is unique, so a repeated event
    # makes nothing new.
    event_id = models.UUIDField()
    # Rows with the same key group while unread ("" = this kind does not group).
    group_key = models.CharField(max_length=100, blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="the latest member who did it",
    )
    actor_count = models.PositiveIntegerField(default=1)
    post = models.ForeignKey(
        "books.BookPost", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    request = models.ForeignKey(
        "exchanges.CopyRequest",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    title = models.CharField(max_length=300, help_text="the book's title when notified")
    detail = models.CharField(max_length=300, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event_id", "recipient"], name="notification_once"),
            models.UniqueConstraint(
                fields=["recipient", "group_key"],
                condition=Q(read_at__isnull=True) & ~Q(group_key=""),
                name="notification_one_open_group",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-updated_at", "-id"], name="notification_recent"),
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def others(self) -> int:
        return max(0, self.actor_count - 1)

    @property
    def sentence(self) -> str:
        """What happened, as plain text ("ada and 2 others liked your post of “Dune”.").

        Built here rather than in a template: the list page shows 20 of them and every
        email one or many, and a chain of template `{% elif %}`s cost more than the rest
        of the row. Templates print it with `{{ item.sentence }}` (escaped in HTML)."""
        actor = self.actor
        who = (actor.username if actor else "") or "Someone"
        title = self.title
        build = _SENTENCES.get(self.kind)
        if build is None:
            return f"Something happened about “{title}”."
        return build(who, title, self)

    def target_url(self) -> str:
        """Where the notification leads, or "" when its object is gone."""
        if self.request_id:
            url = url_for_pk("exchanges:request_detail", self.request_id)
            return url + "#thread" if self.kind == Kind.REQUEST_MESSAGE else url
        if self.post_id:
            return url_for_pk("books:post_detail", self.post_id)
        return ""

    @property
    def mark_read_url(self) -> str:
        return url_for_pk("notifications:mark_read", self.pk)


def _declined(who, title, n):
    return f"Your request for “{title}” was declined." + (f" {n.detail}" if n.detail else "")


def _received(who, title, n):
    due = f" Due back on {n.detail}." if n.detail else ""
    return f"{who} has received “{title}”.{due}"


def _liked(who, title, n):
    others = n.others
    more = f" and {others} other{'s' if others != 1 else ''}" if others else ""
    return f"{who}{more} liked your post of “{title}”."


_SENTENCES = {
    Kind.COPY_REQUESTED: lambda who, title, n: f"{who} asked for your copy of “{title}”.",
    Kind.REQUEST_ACCEPTED: lambda who, title, n: f"{who} accepted your request for “{title}”.",
    Kind.REQUEST_DECLINED: _declined,
    Kind.REQUEST_CANCELLED: lambda who, title, n: f"{who} cancelled their request for “{title}”.",
    Kind.COPY_HANDED_OVER: lambda who, title, n: (
        f"{who} has handed over “{title}”. Please confirm when you have it."
    ),
    Kind.COPY_RECEIVED: _received,
    Kind.LOAN_RETURNED: lambda who, title, n: f"{who} confirmed that “{title}” is back. Thank you!",
    Kind.REQUEST_MESSAGE: lambda who, title, n: f"{who} wrote to you about “{title}”.",
    Kind.POST_LIKED: _liked,
    Kind.WISHLIST_POSTED: lambda who, title, n: (
        f"{who} just shared “{title}”, a book on your Want to read list."
    ),
}


class NotificationActor(models.Model):
    """Who is behind a grouped notification (each member once)."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="actors")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    event_id = models.UUIDField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notification", "actor"], name="notificationactor_once")
        ]

    def __str__(self) -> str:
        return f"{self.actor_id} on {self.notification_id}"


class Preference(models.Model):
    """A member's choice of delivery for one kind (absent: DEFAULT_DELIVERY)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    delivery = models.CharField(max_length=10, choices=Delivery.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notificationpref_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.delivery}"


class EmailSent(models.Model):
    """An immediate email for one event to one member, written before sending: a repeated
    event sends nothing more."""

    event_id = models.UUIDField()
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event_id", "recipient"], name="emailsent_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} email to {self.recipient_id}"


class DigestSent(models.Model):
    """One daily digest per member per day. The row is claimed (committed) before the
    email is sent and marked sent after: a second run of the digest that day finds it
    and sends nothing. A claim never marked sent is taken over after
    services.DIGEST_CLAIM_SECONDS (its run died); a failed send deletes it."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    items = models.PositiveIntegerField()
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["recipient", "day"], name="digest_once")]

    def __str__(self) -> str:
        return f"digest {self.day} to {self.recipient_id}"
