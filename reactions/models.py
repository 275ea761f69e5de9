"""Likes on book posts, members' reviews of books, and the rating aggregate (BookRating)
that the `reactions.book_rating` consumer keeps from the review rows."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from bookshare.eventbus import AtomicSaveMixin

RATING_MIN = 1
RATING_MAX = 5


class PostLike(AtomicSaveMixin, models.Model):
    """A member likes a book post; at most once (the unique constraint makes a double
    click harmless). Saving publishes PostLiked, deleting PostUnliked (signals.py)."""

    post = models.ForeignKey("books.BookPost", on_delete=models.CASCADE, related_name="likes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="post_likes"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Also the index that counts a post's likes (post_id is its first column).
            models.UniqueConstraint(fields=["post", "user"], name="postlike_once"),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="postlike_user_recent")]

    def __str__(self) -> str:
        return f"{self.user} likes post {self.post_id}"


class Review(AtomicSaveMixin, models.Model):
    """One member's rating (1–5 stars) and optional plain-text review of a book.

    Created: ReviewSubmitted; saved again: ReviewUpdated (with the rating it had when
    loaded); deleted: ReviewRemoved. Write through `reactions.services`.
    """

    book = models.ForeignKey("books.Book", on_delete=models.CASCADE, related_name="reviews")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews"
    )
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(RATING_MIN), MaxValueValidator(RATING_MAX)]
    )
    # Plain text; line breaks kept. Shown escaped, never as HTML.
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "book"], name="review_once_per_book"),
            models.CheckConstraint(
                condition=models.Q(rating__gte=RATING_MIN, rating__lte=RATING_MAX),
                name="review_rating_1_to_5",
            ),
        ]
        indexes = [
            models.Index(fields=["book", "-created_at"], name="review_book_recent"),
            # The rating consumer counts and sums a book's ratings from this index alone.
            models.Index(fields=["book", "rating"], name="review_book_rating"),
        ]

    def __str__(self) -> str:
        return f"{self.user} rates {self.book_id}: {self.rating}/5"

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # Remembered so ReviewUpdated can say what the rating was before the save.
        instance._loaded_rating = instance.__dict__.get("rating")
        return instance

    @property
    def previous_rating(self) -> int:
        return getattr(self, "_loaded_rating", None) or self.rating

    @property
    def stars(self) -> str:
        return "★" * self.rating + "☆" * (RATING_MAX - self.rating)


class BookRating(models.Model):
    """A book's rating count and average: a read model written only by the
    `reactions.book_rating` consumer (and `manage.py ratings rebuild`), recomputed from
    the review rows each time, so it is right whatever order events arrive in."""

    book = models.OneToOneField(
        "books.Book", on_delete=models.CASCADE, primary_key=True, related_name="rating"
    )
    count = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0, help_text="sum of the ratings")
    average = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-count", "book_id"]

    def __str__(self) -> str:
        return f"book {self.book_id}: {self.average or '—'} ({self.count})"

    @property
    def stars(self) -> str:
        """The average rounded to a whole star, as ★★★★☆."""
        if not self.count or self.average is None:
            return ""
        full = int(self.average + Decimal("0.5"))
        full = max(RATING_MIN, min(RATING_MAX, full))
        return "★" * full + "☆" * (RATING_MAX - full)
