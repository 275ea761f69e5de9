"""Demo likes and reviews for `python manage.py seed_demo` (idempotent).

Runs in `seed_links`, after accounts and books have made the demo members, books and
posts. Goes through the services (so events are published like any other), then
computes the ratings at once so the book pages show them without waiting for a worker.
"""

from __future__ import annotations

import random

REVIEW_LINES = [
    "Read it in two evenings.",
    "Slow start, but the last third is worth it.",
    "Lent it to my neighbour and had to ask for it back twice.",
    "Not for me, though I can see why people love it.",
    "The kind of book you press into a friend's hands.",
    "Funny and sad in the same paragraph.",
    "I kept a pencil nearby for the good lines.",
    "",
]
# Members' leanings, so the averages differ from book to book.
MOOD = {"ada": 1, "ben": 0, "chloe": -1}
REVIEWS_PER_MEMBER = 12
LIKES_PER_MEMBER = 15


def seed(*, stdout, style):
    """Nothing of our own to seed before the other apps' data exists."""


def seed_links(*, stdout, style):
    from django.contrib.auth import get_user_model

    from books.models import Book, BookPost

    from . import ratings, services
    from .models import PostLike, Review

    User = get_user_model()
    members = list(User.objects.filter(username__in=MOOD, email_verified_at__isnull=False))
    book_ids = list(Book.objects.order_by("id").values_list("id", flat=True)[:120])
    post_ids = list(
        BookPost.objects.filter(status=BookPost.Status.AVAILABLE)
        .order_by("id")
        .values_list("id", flat=True)[:200]
    )
    if not members or not book_ids:
        stdout.write("  reactions: no demo members or books to react to")
        return
    rng = random.Random(20261122)  # the same choices every run
    touched: set[int] = set()
    for member in sorted(members, key=lambda m: m.username):
        for book_id in rng.sample(book_ids, min(REVIEWS_PER_MEMBER, len(book_ids))):
            rating = max(1, min(5, rng.choice([3, 4, 4, 5, 2]) + MOOD[member.username]))
            text = rng.choice(REVIEW_LINES)
            if not Review.objects.filter(user=member, book_id=book_id).exists():
                services.review_submit(user=member, book=Book(pk=book_id), rating=rating, text=text)
            touched.add(book_id)
        for post in BookPost.objects.filter(
            pk__in=rng.sample(post_ids, min(LIKES_PER_MEMBER, len(post_ids)))
        ).exclude(owner=member):
            services.post_like(user=member, post=post)
    ratings.rebuild(touched)
    stdout.write(
        f"  {Review.objects.count()} reviews, {PostLike.objects.count()} likes; "
        f"ratings of {len(touched)} books computed"
    )
