"""Demo reading lists for `seed_demo` (idempotent: the services do nothing the second
time). Runs after books' seed, so the demo members and books exist."""

import random

CUSTOM = [
    ("Summer by the sea", "Light enough for a deckchair.", True),
    ("Presents to give", "Books I'd wrap for friends.", False),
]


def seed(*, stdout, style):
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from books.demo import MEMBERS
    from books.models import Book

    from .models import ListItem, ListKind
    from .services import list_add_book, list_create, lists_ensure_builtin, status_set

    User = get_user_model()
    book_ids = list(Book.objects.order_by("id").values_list("id", flat=True)[:400])
    if not book_ids:
        stdout.write("  no books yet: no demo lists")
        return
    books = {b.pk: b for b in Book.objects.filter(pk__in=book_ids)}
    for n, user in enumerate(User.objects.filter(username__in=MEMBERS).order_by("username")):
        rng = random.Random(f"lists-{user.username}")
        picks = rng.sample(book_ids, min(len(book_ids), 30))
        with transaction.atomic():
            builtin = lists_ensure_builtin(user=user)
            plan = [ListKind.WANT_TO_READ] * 8 + [ListKind.READING] * 2 + [ListKind.READ] * 10
            for book_id, status in zip(picks, plan, strict=False):
                status_set(user=user, book=books[book_id], status=status)
            for book_id in picks[10:14]:
                list_add_book(reading_list=builtin[ListKind.FAVOURITES], book=books[book_id])
            for i, (name, description, public) in enumerate(CUSTOM):
                reading_list = user.reading_lists.filter(name=name).first() or list_create(
                    owner=user, name=name, description=description, is_public=public
                )
                for book_id in picks[20 + 5 * i + n % 2 : 25 + 5 * i]:
                    list_add_book(reading_list=reading_list, book=books[book_id])
    stdout.write(f"  {ListItem.objects.count()} list items across the demo members' lists")
