"""Demo data for books (idempotent)."""

GENRES = [
    ("Fantasy", "fantasy", "Other worlds, quests and magic."),
    ("Science Fiction", "science-fiction", "Futures, far stars and what-ifs."),
    ("Mystery", "mystery", "Whodunits, detectives and puzzles."),
    ("Romance", "romance", "Love stories, old and new."),
    ("History", "history", "The past, told well."),
    ("Biography", "biography", "Lives worth reading about."),
    ("Children", "children", "Picture books and first chapters."),
    ("Poetry", "poetry", "Verse of every kind."),
    ("Cooking", "cooking", "Recipes and the stories around them."),
    ("Travel", "travel", "Guides and journeys."),
    ("Science", "science", "How the world works."),
    ("Classics", "classics", "Books that lasted."),
]


def seed(*, stdout, style):
    from .models import Genre

    for name, slug, description in GENRES:
        Genre.objects.get_or_create(slug=slug, defaults={"name": name, "description": description})
    stdout.write(f"  {Genre.objects.count()} genres")
