"""Discovery's read models. Every row here is derived from other apps' events by the
consumers in consumers.py (or rebuilt by `manage.py discovery rebuild`), except
NotInterested, which a member sets.

- Signal: one member's fact about one book (a list item, a like, a review, a post, a
  request), keyed by its source so repeats and reordering are harmless.
- MemberBook / BookPair / BookStat: item-to-item co-occurrence. Each member contributes a
  "basket" of at most DISCOVERY_MEMBER_CAP public books; pairs count baskets.
- Trending / TrendingGenre / TrendingDay: time-decayed scores relative to an epoch.
- Recommendation: a member's stored "For you" rows, with the reason.
- GenreMember: when a member joined a genre (membership itself is
  accounts.User.favourite_genres).
"""

from django.conf import settings
from django.db import models


class Signal(models.Model):
    class Kind(models.TextChoices):
        WANT = "want_to_read", "want to read"
        READING = "reading", "reading"
        READ = "read", "read"
        FAVOURITE = "favourites", "favourite"
        CUSTOM = "custom", "custom list"
        LIKE = "like", "liked a post"
        REVIEW = "review", "review"
        POST = "post", "shared a copy"
        REQUEST = "request", "requested a copy"

    key = models.CharField(max_length=64, unique=True, help_text="item:<id>, like:<user>:<post>…")
    user_id = models.BigIntegerField()
    book_id = models.BigIntegerField(db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    public = models.BooleanField(default=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    # When it became active: its trending contribution is weight × 2^((added_at − t0)/h).
    added_at = models.DateTimeField()
    trend_weight = models.FloatField(default=0, help_text="weight it added to trending")
    # occurred_at of the last event applied: an older event arriving late is ignored.
    changed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["user_id", "active", "-changed_at"], name="signal_user_recent"),
            models.Index(fields=["user_id", "book_id"], name="signal_user_book"),
            models.Index(fields=["kind", "-added_at"], name="signal_kind_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.kind}{'' if self.active else ', removed'})"


class MemberBook(models.Model):
    """A member's public positive interest in a book, and whether it is in their basket."""

    user_id = models.BigIntegerField()
    book_id = models.BigIntegerField()
    in_basket = models.BooleanField(default=False)
    since = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id", "book_id"], name="memberbook_once")
        ]
        indexes = [models.Index(fields=["user_id", "in_basket", "since"], name="memberbook_basket")]

    def __str__(self) -> str:
        return f"member {self.user_id} · book {self.book_id}"


class BookPair(models.Model):
    """How many members' baskets hold both books (stored in both directions)."""

    book_id = models.BigIntegerField()
    other_id = models.BigIntegerField()
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["book_id", "other_id"], name="bookpair_once")
        ]
        indexes = [models.Index(fields=["book_id", "-count"], name="bookpair_top")]

    def __str__(self) -> str:
        return f"{self.book_id} & {self.other_id}: {self.count}"


class BookStat(models.Model):
    """How many members' baskets hold the book (the norm for cosine similarity)."""

    book_id = models.BigIntegerField(primary_key=True)
    members = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"book {self.book_id}: {self.members}"


class TrendingEpoch(models.Model):
    """The single reference time t0 that stored trending scores are relative to."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    t0 = models.DateTimeField()

    def __str__(self) -> str:
        return f"t0 = {self.t0:%Y-%m-%d %H:%M}"


class Trending(models.Model):
    """Σ weight × 2^((t − t0)/half-life) over a book's public signals."""

    # No database constraint (here and below): an event may name a book deleted meanwhile;
    # pages join the book, so such a row simply doesn't show.
    book = models.OneToOneField(
        "books.Book",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        primary_key=True,
        related_name="+",
    )
    score = models.FloatField(default=0)

    class Meta:
        indexes = [models.Index(fields=["-score"], name="trending_rank")]

    def __str__(self) -> str:
        return f"book {self.book_id}: {self.score:.3g}"


class TrendingGenre(models.Model):
    """The same score, one row per genre of the book: per-genre tops by index."""

    genre_id = models.BigIntegerField()
    book = models.ForeignKey(
        "books.Book", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    score = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["genre_id", "book"], name="trendinggenre_once")
        ]
        indexes = [models.Index(fields=["genre_id", "-score"], name="trendinggenre_rank")]

    def __str__(self) -> str:
        return f"genre {self.genre_id} · book {self.book_id}: {self.score:.3g}"


class TrendingDay(models.Model):
    """Signals per book per day (UTC), for the "this week" counts."""

    book_id = models.BigIntegerField()
    day = models.DateField()
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["book_id", "day"], name="trendingday_once")]

    def __str__(self) -> str:
        return f"book {self.book_id} on {self.day}: {self.count}"


class Recommendation(models.Model):
    class Reason(models.TextChoices):
        BECAUSE = "because", "because you added"
        GENRE = "genre", "popular in a genre you joined"
        TRENDING = "trending", "trending"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    book = models.ForeignKey(
        "books.Book", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    score = models.FloatField()
    reason = models.CharField(max_length=10, choices=Reason.choices)
    reason_book = models.ForeignKey(
        "books.Book",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    reason_genre = models.ForeignKey(
        "books.Genre", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "book"], name="recommendation_once")]
        indexes = [models.Index(fields=["user", "-score"], name="recommendation_rank")]

    def __str__(self) -> str:
        return f"{self.book_id} for {self.user_id} ({self.reason})"


class NotInterested(models.Model):
    """A member's "not interested": the book is never recommended to them again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    book = models.ForeignKey("books.Book", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "not interested"
        constraints = [models.UniqueConstraint(fields=["user", "book"], name="notinterested_once")]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.book_id}"


class GenreMember(models.Model):
    """When a member joined a genre (from GenreJoined / GenreLeft)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    genre = models.ForeignKey("books.Genre", on_delete=models.CASCADE, related_name="+")
    joined_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "genre"], name="genremember_once")]
        indexes = [models.Index(fields=["genre", "-joined_at"], name="genremember_recent")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.genre_id}"


class PendingRefresh(models.Model):
    """A member whose read models are out of date: their own events changed their
    public taste (their basket, so the pairs) and perhaps a seed of their
    recommendations. One row per member however many events arrive; the job
    (`discovery.refresh_member`) takes the row and does the work once (taste.mark_dirty,
    taste.refresh_pending)."""

    user_id = models.BigIntegerField(primary_key=True)
    due_at = models.DateTimeField(help_text="when the job sent for it should run")
    recompute = models.BooleanField(
        default=True, help_text="a seed changed: recompute the list (else the basket only)"
    )

    class Meta:
        indexes = [models.Index(fields=["due_at"], name="pendingrefresh_due")]

    def __str__(self) -> str:
        return f"member {self.user_id} due {self.due_at:%H:%M:%S}"
