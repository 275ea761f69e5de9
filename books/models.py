"""Catalogue (Genre, Author, Book), members' book posts, and the read models that the
search and suggestions consumers maintain (SearchEntry, SearchTerm, PostFeature,
SimilarPost)."""

import secrets

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.functional import cached_property

from bookshare.eventbus import AtomicSaveMixin

from .text import normalize


class Genre(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("books:genre", kwargs={"slug": self.slug})


class Author(models.Model):
    name = models.CharField(max_length=200)
    # Lower case, accents and punctuation removed: "Émile Zola" and "emile zola" are one.
    name_key = models.CharField(max_length=200, unique=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name_key = normalize(self.name)[:200]
        super().save(*args, **kwargs)


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    FRENCH = "fr", "French"
    GERMAN = "de", "German"
    SPANISH = "es", "Spanish"
    ITALIAN = "it", "Italian"
    DUTCH = "nl", "Dutch"
    PORTUGUESE = "pt", "Portuguese"
    POLISH = "pl", "Polish"
    OTHER = "xx", "Other"


def cover_upload_to(instance, filename: str) -> str:
    """A random name: covers are re-encoded first (catalogue.images), so the extension
    is the encoder's, and nothing of the member's file name is kept."""
    extension = filename.rsplit(".", 1)[-1].lower()[:4] if "." in filename else "jpg"
    if extension not in ("jpg", "png"):
        extension = "jpg"
    return f"covers/{secrets.token_hex(16)}.{extension}"


class Book(models.Model):
    title = models.CharField(max_length=300)
    subtitle = models.CharField(max_length=300, blank=True)
    authors = models.ManyToManyField(Author, through="BookAuthor", related_name="books")
    isbn13 = models.CharField(
        "ISBN-13", max_length=13, unique=True, null=True, blank=True, help_text="Unique."
    )
    publisher = models.CharField(max_length=200, blank=True)
    year = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1450), MaxValueValidator(2100)]
    )
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    description = models.TextField(blank=True, max_length=5000)
    cover_url = models.URLField("cover image URL", blank=True, max_length=500)
    cover = models.FileField(
        upload_to=cover_upload_to,
        blank=True,
        validators=[FileExtensionValidator(["jpg", "jpeg", "png", "webp", "gif"])],
    )
    genres = models.ManyToManyField(Genre, blank=True, related_name="books")
    # normalize(title) + "|" + normalize(first author): how a book is recognised again.
    match_key = models.CharField(max_length=400, db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("books:book_detail", kwargs={"pk": self.pk})

    @property
    def cover_src(self) -> str:
        """Only a stored, re-encoded image. `cover_url` (a member's or a provider's
        address) is fetched once by the catalogue worker and never linked to."""
        if self.cover:
            return self.cover.url
        return ""

    @cached_property
    def credit_list(self) -> list["BookAuthor"]:
        """The credits in order, each with its author, for templates: prefetched
        `credits` when present (the book page's selector sets this list itself)."""
        return list(self.credits.all())

    @cached_property
    def genre_list(self) -> list[Genre]:
        return list(self.genres.all())

    def ordered_authors(self) -> list[Author]:
        """Authors in credit order; uses `credit_list` or prefetched `credits` when
        present."""
        credits = self.__dict__.get("credit_list")
        return [credit.author for credit in (self.credits.all() if credits is None else credits)]

    @property
    def author_names(self) -> str:
        return ", ".join(a.name for a in self.ordered_authors())


class BookAuthor(models.Model):
    """An author's credit on a book, in order (position 0 is the first author)."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="credits")
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="credits")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["book", "position"]
        constraints = [
            models.UniqueConstraint(fields=["book", "author"], name="bookauthor_once"),
            models.UniqueConstraint(fields=["book", "position"], name="bookauthor_position"),
        ]

    def __str__(self) -> str:
        return f"{self.author} ({self.position + 1}) on {self.book}"


class BookPost(AtomicSaveMixin, models.Model):
    """A member's offer of a physical copy of a book."""

    class Offer(models.TextChoices):
        GIVE = "give", "Give away"
        LEND = "lend", "Lend"
        SWAP = "swap", "Swap"

    class Condition(models.TextChoices):
        NEW = "new", "New"
        LIKE_NEW = "like_new", "Like new"
        GOOD = "good", "Good"
        FAIR = "fair", "Fair"
        WORN = "worn", "Well read"

    class Status(models.TextChoices):
        AVAILABLE = "available", "Available"
        RESERVED = "reserved", "Reserved"
        GONE = "gone", "Gone"

    book = models.ForeignKey(Book, on_delete=models.PROTECT, related_name="posts")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="book_posts"
    )
    offer = models.CharField(max_length=8, choices=Offer.choices, default=Offer.GIVE)
    condition = models.CharField(max_length=10, choices=Condition.choices, default=Condition.GOOD)
    location = models.CharField(max_length=120, blank=True, help_text="Town or area.")
    note = models.TextField(blank=True, max_length=2000)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.AVAILABLE, db_index=True
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="bookpost_status_recent"),
            models.Index(fields=["owner", "-created_at"], name="bookpost_owner_recent"),
            models.Index(fields=["book", "status"], name="bookpost_book_status"),
        ]

    def __str__(self) -> str:
        return f"{self.book} ({self.get_offer_display().lower()}) by {self.owner}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # Every post_save receiver has seen what the status was; the next save compares
        # with this one.
        self._loaded_status = self.status

    def get_absolute_url(self) -> str:
        return reverse("books:post_detail", kwargs={"pk": self.pk})

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # Remembered so BookPostUpdated can say what the status was before the save.
        instance._loaded_status = instance.__dict__.get("status")
        return instance

    @property
    def previous_status(self) -> str:
        return getattr(self, "_loaded_status", None) or self.status


# -- Read models kept by consumers ------------------------------------------------------


class SearchEntry(models.Model):
    """One book post as the search page sees it. Written only by the `search` consumers
    (and `manage.py search reindex`); the search page reads nothing else.

    PostgreSQL: a trigger fills `document` (weighted tsvector) on every write; a GIN index
    serves it. SQLite: triggers mirror the text columns into the FTS5 table
    `books_search_fts` (rowid = post_id). See books/search/.
    """

    post_id = models.BigIntegerField(primary_key=True)
    book_id = models.BigIntegerField(db_index=True)
    owner_id = models.BigIntegerField()
    owner_name = models.CharField(max_length=150)
    title = models.CharField(max_length=300)
    subtitle = models.CharField(max_length=300, blank=True)
    title_key = models.CharField(max_length=300, db_index=True)
    authors = models.CharField(max_length=1000, blank=True)
    genres = models.CharField(max_length=1000, blank=True)
    genre_slugs = models.CharField(max_length=1000, blank=True, help_text="|slug|slug|")
    description = models.TextField(blank=True)
    note = models.TextField(blank=True)
    location = models.CharField(max_length=120, blank=True)
    isbn13 = models.CharField(max_length=13, blank=True, db_index=True)
    language = models.CharField(max_length=2)
    offer = models.CharField(max_length=8)
    condition = models.CharField(max_length=10)
    status = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    cover = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    indexed_at = models.DateTimeField(auto_now=True)
    document = SearchVectorField(null=True, editable=False)

    class Meta:
        verbose_name = "search index entry"
        verbose_name_plural = "search index entries"
        indexes = [models.Index(fields=["status", "-created_at"], name="searchentry_status")]

    def __str__(self) -> str:
        return f"#{self.post_id} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("books:post_detail", kwargs={"pk": self.post_id})

    def get_offer_display(self) -> str:
        return BookPost.Offer(self.offer).label if self.offer in BookPost.Offer else self.offer

    def get_status_display(self) -> str:
        return BookPost.Status(self.status).label if self.status in BookPost.Status else ""


class SearchTerm(models.Model):
    """The index's vocabulary (words of titles, authors, genres, descriptions), for
    spelling suggestions. PostgreSQL: trigram GIN index; SQLite: an FTS5 trigram table."""

    word = models.CharField(max_length=40, unique=True)

    def __str__(self) -> str:
        return self.word


class PostFeature(models.Model):
    """Inverted index for similar posts: one row per (available post, feature).

    Features are "b:<book id>", "a:<author id>", "g:<genre id>", "t:<title word>",
    "d:<description word>". Candidate posts for a new post are the latest few posts of each
    of its features: an index range scan with a LIMIT, whatever the catalogue size.
    """

    feature = models.CharField(max_length=48)
    post = models.ForeignKey(BookPost, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["feature", "post"], name="postfeature_once"),
        ]
        indexes = [models.Index(fields=["post"], name="postfeature_post")]

    def __str__(self) -> str:
        return f"{self.feature} → {self.post_id}"


class SimilarPost(models.Model):
    """A post's stored list of similar available posts (at most BOOKS_SIMILAR_COUNT)."""

    post = models.ForeignKey(BookPost, on_delete=models.CASCADE, related_name="similar_entries")
    # No database constraint: a deleted post stays in other lists until the `suggestions`
    # consumer takes it out (and refills them); pages join it away meanwhile.
    similar = models.ForeignKey(
        BookPost, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    score = models.FloatField()
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["post", "-score", "-similar_id"]
        constraints = [
            models.UniqueConstraint(fields=["post", "similar"], name="similarpost_once"),
        ]
        indexes = [
            models.Index(fields=["post", "-score"], name="similarpost_rank"),
            models.Index(fields=["similar"], name="similarpost_similar"),
        ]

    def __str__(self) -> str:
        return f"{self.post_id} ~ {self.similar_id} ({self.score:.2f})"
