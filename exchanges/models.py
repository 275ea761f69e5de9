"""Requests for a copy of a book post, and the message thread between the two members.

A request's life: open → accepted → handed_over → received (a gift or a swap: the post is
gone) or on_loan (a loan) → returned. An open request may be declined by the owner or
cancelled by the requester; an accepted one may still be cancelled by the requester
before the hand-over. Every change goes through exchanges/services.py.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse


class CopyRequest(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Waiting for the owner"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Cancelled"
        HANDED_OVER = "handed_over", "Handed over"
        RECEIVED = "received", "Received"
        ON_LOAN = "on_loan", "On loan"
        RETURNED = "returned", "Returned"

    ACTIVE_STATES = (State.OPEN, State.ACCEPTED)
    # States in which the copy is promised to (or with) this requester: one per post.
    HOLDING_STATES = (State.ACCEPTED, State.HANDED_OVER, State.ON_LOAN)
    CLOSED_STATES = (State.DECLINED, State.CANCELLED, State.RECEIVED, State.RETURNED)

    # The post may be removed by its owner; the request stays (with its book and thread)
    # so both members keep their history.
    post = models.ForeignKey(
        "books.BookPost", on_delete=models.SET_NULL, null=True, related_name="copy_requests"
    )
    # The post's id, kept after the post is removed (events and notifications use it).
    post_number = models.BigIntegerField(db_index=True, editable=False)
    book = models.ForeignKey("books.Book", on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="requests_received"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="requests_made"
    )
    offer = models.CharField(max_length=8, help_text="the post's offer when requested")
    offered_post = models.ForeignKey(
        "books.BookPost",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="offered_in_requests",
        help_text="for a swap: the requester's post offered in exchange",
    )
    message = models.TextField(blank=True, max_length=1000)
    state = models.CharField(
        max_length=12, choices=State.choices, default=State.OPEN, db_index=True
    )
    decline_reason = models.CharField(max_length=300, blank=True)
    declined_automatically = models.BooleanField(default=False)
    due_date = models.DateField(null=True, blank=True, help_text="for a loan")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    handed_over_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "requester"],
                condition=Q(state__in=["open", "accepted"]),
                name="copyrequest_one_active_per_member",
            ),
            models.UniqueConstraint(
                fields=["post"],
                condition=Q(state__in=["accepted", "handed_over", "on_loan"]),
                name="copyrequest_one_holder_per_post",
            ),
        ]
        indexes = [
            models.Index(fields=["requester", "-created_at"], name="copyrequest_requester"),
            models.Index(fields=["owner", "-created_at"], name="copyrequest_owner"),
            models.Index(fields=["post", "state"], name="copyrequest_post_state"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.book} for {self.requester} ({self.state})"

    def get_absolute_url(self) -> str:
        return reverse("exchanges:request_detail", kwargs={"pk": self.pk})

    def is_party(self, user) -> bool:
        return user.is_authenticated and user.pk in (self.owner_id, self.requester_id)

    def other_party_id(self, user_id: int) -> int:
        return self.owner_id if user_id == self.requester_id else self.requester_id

    @property
    def is_closed(self) -> bool:
        return self.state in self.CLOSED_STATES


class RequestMessage(models.Model):
    """One message in a request's thread: plain text, shown escaped, to the two members
    and staff only."""

    request = models.ForeignKey(CopyRequest, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="request_messages"
    )
    body = models.TextField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"message {self.pk} on request {self.request_id}"
