"""Demo data for books (idempotent): genres, a catalogue of real, well-known books (titles,
authors, first-publication years, genres and, where known, an ISBN-13 of a common
edition, kept in books/demo_books.csv), posts of them by a few demo members, and the
search index and suggestions built synchronously so `make run` shows results at once.

Books have no cover images: the site draws a placeholder (books/covers.py)."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

from accounts.demo import DEMO_PASSWORD

CATALOGUE = Path(__file__).with_name("demo_books.csv")

GENRES = [
    ("Fiction", "fiction", "Modern novels and stories."),
    ("Classics", "classics", "Books that lasted."),
    ("Fantasy", "fantasy", "Other worlds, quests and magic."),
    ("Science Fiction", "science-fiction", "Futures, far stars and what-ifs."),
    ("Mystery", "mystery", "Whodunits, detectives and puzzles."),
    ("Thriller", "thriller", "Spies, chases and suspense."),
    ("Horror", "horror", "Ghosts, monsters and dread."),
    ("Romance", "romance", "Love stories, old and new."),
    ("Young Adult", "young-adult", "Stories for teenage readers (and everyone else)."),
    ("Children", "children", "Picture books and first chapters."),
    ("History", "history", "The past, told well."),
    ("Biography", "biography", "Lives worth reading about."),
    ("Science", "science", "How the world works."),
    ("Philosophy", "philosophy", "Big questions, and some answers."),
    ("Poetry", "poetry", "Verse of every kind."),
    ("Cooking", "cooking", "Recipes and the stories around them."),
    ("Travel", "travel", "Guides and journeys."),
]
TOWNS = ["Leeds", "Bristol", "Norwich", "York", "Cardiff", "Glasgow", "Brighton", "Oxford"]
# The accounts demo members (ada, ben, chloe) share books too, with these three more.
MEMBERS = ["ada", "ben", "chloe", "dev_bookworm", "elin_lends", "finn_swaps"]
NOTES = [
    "",
    "",
    "Paperback, read once.",
    "A few pencil notes in the margins.",
    "Spine a little creased, pages clean.",
    "Hardback with its dust jacket.",
    "Slightly sun-faded cover.",
    "Happy to post it to the next reader's local library.",
]
# Years the site's form accepts; earlier works (Homer, Plato) are stored without one.
YEARS = range(1450, 2101)


@dataclass(frozen=True)
class DemoBook:
    title: str
    authors: list[str]
    year: int | None
    genres: list[str]
    isbn13: str | None


def catalogue() -> list[DemoBook]:
    """The books in demo_books.csv (title, authors ";"-separated, year, genres
    "|"-separated slugs, isbn13 or empty)."""
    with CATALOGUE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    books = []
    for row in rows:
        year = int(row["year"]) if row["year"] else None
        books.append(
            DemoBook(
                title=row["title"].strip(),
                authors=[a.strip() for a in row["authors"].split(";") if a.strip()],
                year=year if year in YEARS else None,
                genres=[g for g in row["genres"].split("|") if g],
                isbn13=row["isbn13"].strip() or None,
            )
        )
    return books


def seed(*, stdout, style):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from . import search, suggestions
    from .models import Book, BookPost, Genre
    from .services import book_create, book_find

    for name, slug, description in GENRES:
        Genre.objects.get_or_create(slug=slug, defaults={"name": name, "description": description})
    stdout.write(f"  {Genre.objects.count()} genres")

    User = get_user_model()
    members = []
    for username in MEMBERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"email": f"{username}@example.org", "email_verified_at": timezone.now()},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        members.append(user)
    stdout.write(f"  {len(members)} members sharing books (password: {DEMO_PASSWORD})")

    rng = random.Random(20261121)  # the same posts every run
    genres = {g.slug: g for g in Genre.objects.all()}
    new_posts = []
    for item in catalogue():
        book = book_find(isbn13=item.isbn13, title=item.title, first_author=item.authors[0])
        if book is None:
            book = book_create(
                title=item.title,
                authors=item.authors,
                isbn13=item.isbn13,
                year=item.year,
                genres=[genres[slug] for slug in item.genres if slug in genres],
                # The details come from the data file; seeding asks no outside catalogue.
                request_details=False,
            )
        # One copy of most books, two of some (so book pages list several copies).
        owners = rng.sample(members, 2 if rng.random() < 0.2 else 1)
        for owner in owners:
            offer = rng.choice(list(BookPost.Offer))
            town, note = rng.choice(TOWNS), rng.choice(NOTES)
            if not BookPost.objects.filter(book=book, owner=owner).exists():
                # bulk_create: no events for demo data; the index is built right below.
                new_posts.append(
                    BookPost(book=book, owner=owner, offer=offer, location=town, note=note)
                )
    BookPost.objects.bulk_create(new_posts)
    stdout.write(f"  {Book.objects.count()} books, {BookPost.objects.count()} posts")
    indexed, _ = search.reindex()
    suggestions.rebuild()
    stdout.write(f"  search index: {indexed} posts; similar posts computed")
