"""Demo data for books (idempotent): genres, ~300 books made up from word lists written
for this project, posts by a few demo members, and the search index and suggestions
built synchronously so `make run` shows results at once."""

from __future__ import annotations

import random

from accounts.demo import DEMO_PASSWORD

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

# Per genre: title patterns, nouns, adjectives and description sentences, all invented
# here. {n}, {a} and {p} are filled from the nouns, adjectives and places.
VOCAB = {
    "fantasy": (
        ["The {a} {n}", "{n} of the {a} Hills", "A Crown for the {n}", "The {n}'s Oath"],
        ["Lantern", "Wyrm", "Thornwood", "Mapmaker", "Ember Queen", "Riverwitch", "Gatekeeper"],
        ["Sleeping", "Silver", "Broken", "Hollow", "Last", "Ashen", "Wandering"],
        [
            "A reluctant apprentice carries a stolen lantern across {p}.",
            "Old oaths wake when the river freezes over, and nobody remembers the words.",
            "Three sisters bargain with a dragon who collects unfinished stories.",
            "The map redraws itself every night, and only the cartographer's dog notices.",
        ],
    ),
    "science-fiction": (
        ["The {a} Orbit", "{n} at the Edge", "Signals from the {a} {n}", "After the {n}"],
        ["Relay", "Colony", "Drift", "Engine", "Archive", "Starlift", "Tidewell Station"],
        ["Quiet", "Ninth", "Cold", "Borrowed", "Lost", "Bright", "Distant"],
        [
            "A salvage crew finds a ship that has been waiting for them by name.",
            "On a generation ship the gardeners vote, and the vote goes wrong.",
            "An archivist on {p} decodes a message sent a thousand years too early.",
            "The colony's weather engine starts writing poetry in the clouds.",
        ],
    ),
    "mystery": (
        ["Murder at {p}", "The {a} Alibi", "A {n} in the Fog", "The Case of the {a} {n}"],
        ["Ledger", "Locksmith", "Parcel", "Witness", "Gardener", "Keyholder", "Postcard"],
        ["Missing", "Second", "Quiet", "Crooked", "Midnight", "Borrowed", "Painted"],
        [
            "Inspector Hale has until the tide turns to find who moved the body.",
            "A retired schoolteacher notices the one clock in {p} that runs backwards.",
            "Every guest at the wedding had a reason, and two of them had a boat.",
            "The library's overdue notices point, one by one, to a crime.",
        ],
    ),
    "romance": (
        ["Summer at {p}", "The {a} Letter", "A {n} for Two", "Love and the {a} {n}"],
        ["Bakery", "Bookshop", "Orchard", "Harbour", "Promise", "Lighthouse", "Tango"],
        ["Unexpected", "Second", "Secret", "Sweet", "Rainy", "Lost", "Golden"],
        [
            "Two rival bakers share one oven and, slowly, everything else.",
            "A letter delivered forty years late sends Maya to {p}.",
            "She came to sell the old bookshop; he came to buy it; neither left.",
            "A festival, a flat tyre and a stubborn goat bring them together.",
        ],
    ),
    "history": (
        ["The {a} Century", "{n}: A History", "Empires of the {n}", "The Road to {p}"],
        ["Salt", "Silk", "Harbour Towns", "Printing Press", "Canals", "Clockmakers", "Mills"],
        ["Forgotten", "Long", "Iron", "Golden", "Restless", "Northern", "Hidden"],
        [
            "How ordinary traders shaped the politics of {p}.",
            "A lively account of the craftsmen who built the medieval towns.",
            "Drawing on letters and ledgers, this history follows one river for five centuries.",
            "From famine to feast: the story of bread and the people who baked it.",
        ],
    ),
    "biography": (
        ["A Life of {n}", "{a} Years", "The {n} Who Stayed", "Becoming the {n}"],
        ["Engineer", "Botanist", "Painter", "Composer", "Cartographer", "Nurse", "Climber"],
        ["Early", "Restless", "Quiet", "Brave", "Working", "Wandering", "Final"],
        [
            "The life of a self-taught engineer who bridged the valleys of {p}.",
            "Her notebooks show a botanist decades ahead of her colleagues.",
            "A composer's letters, read side by side with the music he wrote.",
            "From mill girl to mayor: an unlikely life, told with warmth.",
        ],
    ),
    "children": (
        ["The {a} {n}", "{n} Goes to {p}", "Where Is the {n}?", "Goodnight, {n}"],
        ["Hedgehog", "Little Bus", "Moon Bear", "Puddle", "Kite", "Tiny Dragon", "Owl"],
        ["Sleepy", "Brave", "Busy", "Curious", "Muddy", "Happy", "Littlest"],
        [
            "A curious hedgehog looks for the moon in every puddle.",
            "The little bus is scared of the big hill, until the passengers sing.",
            "Count the owls, find the kite, and say goodnight to {p}.",
            "A picture book about sharing, splashing and starting again.",
        ],
    ),
    "poetry": (
        ["{n}s", "The {a} Hour", "Poems from {p}", "A Book of {a} Things"],
        ["Tide", "Sparrow", "Lamplight", "Orchard", "Window", "Harvest", "Winter Field"],
        ["Small", "Quiet", "Late", "Green", "Salt", "Borrowed", "Open"],
        [
            "Short poems about kitchens, weather and the people who wait for buses.",
            "A first collection that listens closely to the sea at {p}.",
            "Sonnets and lists, lullabies and arguments.",
            "Poems written on night shifts, full of lamplight and tea.",
        ],
    ),
    "cooking": (
        ["The {a} Kitchen", "{n} Every Day", "Cooking in {p}", "Soup, Bread and {n}"],
        ["Bread", "Lentils", "Dumplings", "Pickles", "Noodles", "Tarts", "Stews"],
        ["Honest", "Weeknight", "Slow", "Village", "Green", "Thrifty", "Sunday"],
        [
            "One hundred recipes for small kitchens and hungry households.",
            "Bread, soups and pickles the way they are made in {p}.",
            "Weeknight dinners in thirty minutes, and puddings for the weekend.",
            "A cook's year: what to make with what the market has.",
        ],
    ),
    "travel": (
        ["Walking to {p}", "The {a} Road", "{n} by Train", "A Year in {p}"],
        ["Coastline", "Islands", "Mountains", "Night Ferry", "Old Towns", "Valleys", "Rivers"],
        ["Slow", "Long", "Northern", "Narrow", "Winding", "Hidden", "Salt"],
        [
            "A walker's guide to the coast path, village by village.",
            "By night ferry and slow train from {p} to the islands.",
            "Maps, markets and where to find a bed when the bus doesn't come.",
            "A travel memoir of borrowed bicycles and generous strangers.",
        ],
    ),
    "science": (
        ["The {a} Universe", "How {n} Work", "{n} and Everything", "The Secret Life of {n}"],
        ["Atoms", "Forests", "Oceans", "Clouds", "Bees", "Volcanoes", "Numbers"],
        ["Hidden", "Restless", "Invisible", "Living", "Curious", "Elegant", "Tiny"],
        [
            "A clear introduction to how forests talk through their roots.",
            "Why clouds float, why bees dance and why numbers never end.",
            "A physicist explains the universe with a teapot and a bicycle.",
            "Field notes from the volcanoes of {p}, for curious readers.",
        ],
    ),
    "classics": (
        ["The {a} {n}", "{n} of {p}", "The Tale of the {n}", "{a} Days"],
        ["Heiress", "Manor", "Voyage", "Orphan", "Moorland", "Merchant", "Pilgrim"],
        ["Proud", "Restless", "Forgotten", "Distant", "Grand", "Gentle", "Wild"],
        [
            "A new edition of the great novel of ambition and inheritance.",
            "A merchant's son leaves {p} and returns a stranger.",
            "Love, debt and weather on the moors, in a handsome reprint.",
            "The voyage that changed a family, with notes and an introduction.",
        ],
    ),
}
PLACES = ["Ashbury", "Lowmere", "Kestrel Bay", "Millford", "Northwick", "Tamsford", "Varrow"]
FIRST = [
    "Ada",
    "Bram",
    "Clara",
    "Dmitri",
    "Élodie",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jonah",
    "Kaia",
    "Lars",
    "Mina",
    "Noor",
    "Oskar",
    "Priya",
    "Quentin",
    "Rosa",
    "Søren",
    "Tomás",
]
LAST = [
    "Abernathy",
    "Brightwater",
    "Castellan",
    "Delacroix",
    "Eastwood",
    "Fairweather",
    "Grünfeld",
    "Holloway",
    "Ironside",
    "Jovanović",
    "Kingsley",
    "Larkspur",
    "Morrow",
    "Novak",
    "Oakridge",
    "Pemberton",
    "Quill",
    "Ravensworth",
    "Sørensen",
    "Thistle",
]
TOWNS = ["Leeds", "Bristol", "Norwich", "York", "Cardiff", "Glasgow", "Brighton", "Oxford"]
# The accounts demo members (ada, ben, chloe) share books too, with these three more.
MEMBERS = ["ada", "ben", "chloe", "dev_bookworm", "elin_lends", "finn_swaps"]
BOOKS_PER_GENRE = 25


def _isbn13(rng: random.Random) -> str:
    from .isbn import isbn13_check_digit

    first12 = "978" + "".join(str(rng.randint(0, 9)) for _ in range(9))
    return first12 + isbn13_check_digit(first12)


def _book_data(rng: random.Random, slug: str) -> dict:
    patterns, nouns, adjectives, sentences = VOCAB[slug]
    place = rng.choice(PLACES)
    title = rng.choice(patterns).format(n=rng.choice(nouns), a=rng.choice(adjectives), p=place)
    authors = [f"{rng.choice(FIRST)} {rng.choice(LAST)}"]
    if rng.random() < 0.15:
        authors.append(f"{rng.choice(FIRST)} {rng.choice(LAST)}")
    description = " ".join(s.format(p=place) for s in rng.sample(sentences, 2))
    return {
        "title": title,
        "authors": authors,
        "isbn": _isbn13(rng) if rng.random() < 0.7 else None,
        "description": description,
        "year": rng.randint(1950, 2026),
        "publisher": rng.choice(["Larkspur Press", "Tidewell Books", "Old Mill Editions"]),
    }


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

    rng = random.Random(20261121)  # the same books every run
    genres = {g.slug: g for g in Genre.objects.all()}
    new_posts = []
    for slug in VOCAB:
        for _ in range(BOOKS_PER_GENRE):
            data = _book_data(rng, slug)
            owner = rng.choice(members)
            offer = rng.choice(list(BookPost.Offer))
            town = rng.choice(TOWNS)
            extra = [genres[rng.choice(list(VOCAB))]] if rng.random() < 0.2 else []
            book = book_find(
                isbn13=data["isbn"], title=data["title"], first_author=data["authors"][0]
            )
            if book is None:
                book = book_create(
                    title=data["title"],
                    authors=data["authors"],
                    isbn13=data["isbn"],
                    description=data["description"],
                    year=data["year"],
                    publisher=data["publisher"],
                    genres=[genres[slug], *extra],
                    # Made-up ISBNs: nothing for outside catalogues to find.
                    request_details=False,
                )
            if not BookPost.objects.filter(book=book, owner=owner).exists():
                # bulk_create: no events for demo data; the index is built right below.
                new_posts.append(
                    BookPost(book=book, owner=owner, offer=offer, location=town, note="")
                )
    BookPost.objects.bulk_create(new_posts)
    stdout.write(f"  {Book.objects.count()} books, {BookPost.objects.count()} posts")
    indexed, _ = search.reindex()
    suggestions.rebuild()
    stdout.write(f"  search index: {indexed} posts; similar posts computed")
