"""Reading lists (four built-in per member, plus their own), their items, and library
imports from Goodreads or StoryGraph (ImportJob, one ImportRow per CSV row)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from bookshare.eventbus import AtomicSaveMixin


class ListKind(models.TextChoices):
    WANT_TO_READ = "want_to_read", "Want to read"
    READING = "reading", "Reading"
    READ = "read", "Read"
    FAVOURITES = "favourites", "Favourites"
    CUSTOM = "custom", "Custom"


# The three reading-status lists: a book is on at most one of them per member.
STATUS_KINDS = (ListKind.WANT_TO_READ, ListKind.READING, ListKind.READ)
BUILTIN_KINDS = (*STATUS_KINDS, ListKind.FAVOURITES)


class ReadingList(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reading_lists"
    )
    kind = models.CharField(max_length=16, choices=ListKind.choices, default=ListKind.CUSTOM)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, max_length=2000)
    is_public = models.BooleanField("public", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["owner", "id"]
        constraints = [
            # One of each built-in list per member.
            models.UniqueConstraint(
                fields=["owner", "kind"],
                condition=~Q(kind="custom"),
                name="readinglist_builtin_once",
            ),
        ]
        indexes = [models.Index(fields=["owner", "kind"], name="readinglist_owner_kind")]

    def __str__(self) -> str:
        return f"{self.name} ({self.owner})"

    def get_absolute_url(self) -> str:
        return reverse("lists:detail", kwargs={"pk": self.pk})

    @property
    def is_builtin(self) -> bool:
        return self.kind != ListKind.CUSTOM

    @property
    def is_status(self) -> bool:
        return self.kind in STATUS_KINDS

    def visible_to(self, user) -> bool:
        return self.is_public or bool(user and user.is_authenticated and user.pk == self.owner_id)


class ListItem(AtomicSaveMixin, models.Model):
    """A book on a list. `owner` and `status` are copied from the list so the database
    can hold the rules: a book once per list, and on at most one status list per member.
    """

    list = models.ForeignKey(ReadingList, on_delete=models.CASCADE, related_name="items")
    book = models.ForeignKey("books.Book", on_delete=models.CASCADE, related_name="list_items")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="list_items"
    )
    # The list's kind when it is a reading-status list, else "".
    status = models.CharField(max_length=16, blank=True, default="")
    position = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=280, blank=True)
    added_at = models.DateTimeField()
    read_on = models.DateField("date read", null=True, blank=True)

    class Meta:
        ordering = ["list", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["list", "book"], name="listitem_book_once"),
            models.UniqueConstraint(
                fields=["owner", "book"],
                condition=~Q(status=""),
                name="listitem_one_status",
            ),
        ]
        indexes = [
            models.Index(fields=["list", "position", "id"], name="listitem_list_order"),
            models.Index(fields=["owner", "book"], name="listitem_owner_book"),
        ]

    def __str__(self) -> str:
        return f"{self.book_id} on {self.list_id}"

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # Remembered so a move between status lists can say where the item came from.
        instance._loaded_status = instance.__dict__.get("status")
        return instance

    @property
    def previous_status(self) -> str:
        return getattr(self, "_loaded_status", None) or ""


class ImportJob(models.Model):
    class Format(models.TextChoices):
        GOODREADS = "goodreads", "Goodreads"
        STORYGRAPH = "storygraph", "StoryGraph"

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Importing"
        DONE = "done", "Finished"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs"
    )
    format = models.CharField(max_length=12, choices=Format.choices)
    filename = models.CharField(max_length=255, blank=True)
    state = models.CharField(
        max_length=8, choices=State.choices, default=State.QUEUED, db_index=True
    )
    total_rows = models.PositiveIntegerField(default=0)
    done_rows = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0, help_text="Rows that changed a list.")
    unchanged = models.PositiveIntegerField(default=0, help_text="Rows already imported.")
    matched = models.PositiveIntegerField(default=0, help_text="Rows matched to a known book.")
    created = models.PositiveIntegerField(default=0, help_text="Rows that created a book.")
    skipped = models.PositiveIntegerField(default=0, help_text="Rows not imported.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_format_display()} import #{self.pk} by {self.owner}"

    def get_absolute_url(self) -> str:
        return reverse("lists:import_detail", kwargs={"pk": self.pk})

    @property
    def is_done(self) -> bool:
        return self.state == self.State.DONE

    @property
    def percent(self) -> int:
        return 100 if not self.total_rows else int(100 * self.done_rows / self.total_rows)


class ImportRow(models.Model):
    """One row of an uploaded file, parsed at upload; the job works through the pending
    ones in batches. A row that could not be read is stored already skipped."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        IMPORTED = "imported", "Imported"
        UNCHANGED = "unchanged", "Already there"
        SKIPPED = "skipped", "Skipped"

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField(help_text="Line number in the file.")
    data = models.JSONField(default=dict, help_text="The row as mapped from the file.")
    raw = models.TextField(blank=True, help_text="The row as it was in the file.")
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    reason = models.CharField(max_length=300, blank=True)
    book = models.ForeignKey(
        "books.Book", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    book_created = models.BooleanField(default=False)

    class Meta:
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="importrow_once")]
        indexes = [models.Index(fields=["job", "outcome", "number"], name="importrow_pending")]

    def __str__(self) -> str:
        return f"row {self.number} of import #{self.job_id}"
