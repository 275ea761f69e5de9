"""Demo members for `python manage.py seed_demo` (idempotent: get-or-create by username)."""

DEMO_PASSWORD = "shelf-to-shelf-2026"  # noqa: S105 - demo data, printed on purpose
MEMBERS = [
    ("ada", "ada@example.org", "Reads anything with a map in the front.", ["fantasy", "travel"]),
    ("ben", "ben@example.org", "Mysteries on the train, history at home.", ["mystery", "history"]),
    ("chloe", "chloe@example.org", "Collector of battered classics.", ["classics", "poetry"]),
]


def seed(*, stdout, style):
    from . import clock
    from .models import User

    created = 0
    for username, email, bio, _genre_slugs in MEMBERS:
        user, was_created = User.objects.get_or_create(
            username=username,
            # Verified from the start, so the email consumer sends them no code.
            defaults={"email": email, "bio": bio, "email_verified_at": clock.now()},
        )
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            created += 1
    names = ", ".join(username for username, *_ in MEMBERS)
    stdout.write(f"  {len(MEMBERS)} demo members ({created} new): {names}")
    stdout.write(style.WARNING(f"  demo password for all of them: {DEMO_PASSWORD}"))


def seed_links(*, stdout, style):
    """Favourite genres, once every app (books: the genres) has seeded."""
    from django.apps import apps

    from .models import User

    Genre = apps.get_model("books", "Genre")
    for username, _email, _bio, genre_slugs in MEMBERS:
        user = User.objects.filter(username=username).first()
        if user is not None and not user.favourite_genres.exists():
            user.favourite_genres.set(Genre.objects.filter(slug__in=genre_slugs))
