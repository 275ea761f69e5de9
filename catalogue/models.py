"""What the catalogue app stores: details fetched for a book, and price comparisons.

The fetching itself (HTTP to outside providers) runs in a Celery task outside any
database transaction; these rows are its durable job state (status, lease, the
idempotency key of the event that asked for it) and its results.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from books.models import Book


class JobStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class BookDetails(models.Model):
    """Details of a book from outside catalogues that `books.Book` has no column for, and
    the state of fetching them (and the book's cover) in the background."""

    book = models.OneToOneField(
        Book, on_delete=models.CASCADE, primary_key=True, related_name="catalogue_details"
    )
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    pages = models.PositiveIntegerField(null=True, blank=True)
    subjects = models.JSONField(default=list, blank=True)
    sources = models.JSONField(default=list, blank=True, help_text="providers that knew it")
    # The image the worker should fetch (a member's URL or a provider's); never shown.
    cover_source_url = models.URLField(max_length=500, blank=True)
    cover_note = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=200, blank=True)
    request_event_id = models.UUIDField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    requested_at = models.DateTimeField(auto_now_add=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "book details"
        indexes = [models.Index(fields=["status", "lease_until"], name="bookdetails_due")]

    def __str__(self) -> str:
        return f"details of book {self.book_id} ({self.status})"

    @property
    def waiting(self) -> bool:
        return self.status in (JobStatus.PENDING, JobStatus.RUNNING)


class PriceComparison(models.Model):
    """One round of asking every enabled provider about one book."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="price_comparisons")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Idempotency key: the PriceComparisonRequested event that started it.
    event_id = models.UUIDField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One running comparison per book at a time.
            models.UniqueConstraint(
                fields=["book"],
                condition=Q(status__in=["pending", "running"]),
                name="pricecomparison_one_running",
            )
        ]
        indexes = [
            models.Index(fields=["book", "-created_at"], name="pricecomparison_latest"),
            models.Index(fields=["status", "lease_until"], name="pricecomparison_due"),
        ]

    def __str__(self) -> str:
        return f"prices of book {self.book_id} ({self.status})"

    @property
    def waiting(self) -> bool:
        return self.status in (JobStatus.PENDING, JobStatus.RUNNING)


class PriceQuote(models.Model):
    """One provider's answer in one comparison: a price, a loan, or why there is none."""

    class Kind(models.TextChoices):
        PRICE = "price", "Price"
        BORROW = "borrow", "Borrow"
        NONE = "none", "No offer"

    class Condition(models.TextChoices):
        NEW = "new", "New"
        USED = "used", "Used"
        EBOOK = "ebook", "E-book"
        BORROW = "borrow", "Loan"

    comparison = models.ForeignKey(PriceComparison, on_delete=models.CASCADE, related_name="quotes")
    provider = models.CharField(max_length=30)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    condition = models.CharField(max_length=8, choices=Condition.choices, blank=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    url = models.URLField(max_length=500, blank=True)
    # A key of catalogue.providers.REASONS: never a provider's own error text.
    reason = models.CharField(max_length=30, blank=True)
    fetched_at = models.DateTimeField()

    class Meta:
        ordering = ["comparison", "provider"]
        constraints = [
            models.UniqueConstraint(
                fields=["comparison", "provider"], name="pricequote_one_per_provider"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider}: {self.amount} {self.currency} ({self.kind})"
