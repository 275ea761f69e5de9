"""Similar posts: a stored top-N list per post, kept by the `suggestions` consumers.

Each available post has a handful of *features* (PostFeature): its book, its authors, its
genres, distinctive title words and a few description words, the same words the search
index holds. Two posts are similar in proportion to the weight of the features they share
(a cosine over weighted feature sets, so the score is symmetric).

Bounded work per post, whatever the catalogue size:
  * candidates = for each of the post's features (at most MAX_FEATURES), the latest
    PER_FEATURE posts having it: one index range scan with a LIMIT each;
  * the best MAX_CANDIDATES are scored exactly from their own features (one query);
  * the top SIMILAR_COUNT are stored; the post also joins the list of each of those
    candidates whose weakest entry it beats (one query to read those lists).
A post that stops being available (reserved, gone, removed) leaves every list, and the
lists it leaves are refilled (at most REFILL_LIMIT of them per event).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch

from bookshare.core.batching import pk_batches

from .models import BookAuthor, BookPost, PostFeature, SimilarPost
from .text import content_words

WEIGHTS = {"b": 6.0, "a": 4.0, "g": 1.5, "t": 1.5, "d": 0.5}
MAX_TITLE_WORDS = 6
MAX_DESCRIPTION_WORDS = 8
MAX_FEATURES = 24
PER_FEATURE = 40
MAX_CANDIDATES = 40
REFILL_LIMIT = 20


def similar_count() -> int:
    return getattr(settings, "BOOKS_SIMILAR_COUNT", 8)


def _posts():
    """Posts with what post_features() reads, in three queries for any number of posts."""
    return BookPost.objects.select_related("book").prefetch_related(
        Prefetch("book__credits", queryset=BookAuthor.objects.order_by("position")),
        "book__genres",
    )


def _post(post_id: int) -> BookPost | None:
    return _posts().filter(pk=post_id).first()


def post_features(post: BookPost) -> set[str]:
    """The post's features (see module doc), at most MAX_FEATURES."""
    book = post.book
    features = {f"b:{book.pk}"}
    features |= {f"a:{credit.author_id}" for credit in book.credits.all()[:4]}
    features |= {f"g:{genre.pk}" for genre in book.genres.all()[:4]}
    title_words = content_words(f"{book.title} {book.subtitle}")
    features |= {f"t:{w[:44]}" for w in title_words[:MAX_TITLE_WORDS]}
    # The longest description words are the most distinctive cheap choice.
    description = sorted(
        set(content_words(book.description, min_length=6)), key=lambda w: (-len(w), w)
    )
    for word in description[:MAX_DESCRIPTION_WORDS]:
        if len(features) >= MAX_FEATURES:
            break
        features.add(f"d:{word[:44]}")
    return set(sorted(features)[:MAX_FEATURES]) if len(features) > MAX_FEATURES else features


def _weight(feature: str) -> float:
    return WEIGHTS.get(feature[0], 0.5)


def _norm(features) -> float:
    return math.sqrt(sum(_weight(f) ** 2 for f in features)) or 1.0


def _scored_candidates(post_id: int, features: set[str]) -> list[tuple[int, float]]:
    """(candidate post id, score), best first, among available posts sharing features."""
    hits: Counter[int] = Counter()
    for feature in sorted(features):
        ids = (
            PostFeature.objects.filter(feature=feature)
            .exclude(post_id=post_id)
            .order_by("-post_id")
            .values_list("post_id", flat=True)[:PER_FEATURE]
        )
        for candidate in ids:
            hits[candidate] += _weight(feature)
    if not hits:
        return []
    shortlist = [pid for pid, _ in sorted(hits.items(), key=lambda kv: (-kv[1], -kv[0]))]
    shortlist = shortlist[:MAX_CANDIDATES]
    their: dict[int, set[str]] = defaultdict(set)
    for pid, feature in PostFeature.objects.filter(post_id__in=shortlist).values_list(
        "post_id", "feature"
    ):
        their[pid].add(feature)
    own_norm = _norm(features)
    scored = []
    for pid in shortlist:
        if pid not in their:  # left meanwhile
            continue
        shared = features & their[pid]
        score = sum(_weight(f) ** 2 for f in shared) / (own_norm * _norm(their[pid]))
        if score > 0:
            scored.append((pid, round(score, 6)))
    scored.sort(key=lambda kv: (-kv[1], -kv[0]))
    return scored


def _store_list(post_id: int, scored: list[tuple[int, float]]) -> None:
    top = scored[: similar_count()]
    SimilarPost.objects.filter(post_id=post_id).delete()
    SimilarPost.objects.bulk_create(
        [SimilarPost(post_id=post_id, similar_id=pid, score=score) for pid, score in top]
    )


def _join_lists(post_id: int, scored: list[tuple[int, float]]) -> int:
    """Put `post_id` into the lists of candidates whose weakest entry it beats."""
    limit = similar_count()
    candidate_scores = dict(scored)
    lists: dict[int, list[SimilarPost]] = defaultdict(list)
    for row in SimilarPost.objects.filter(post_id__in=list(candidate_scores)):
        lists[row.post_id].append(row)
    inserts, updates, drops = [], [], []
    for pid, score in scored:
        rows = lists.get(pid, [])
        mine = next((r for r in rows if r.similar_id == post_id), None)
        if mine is not None:
            if mine.score != score:
                mine.score = score
                updates.append(mine)
            continue
        if len(rows) < limit:
            inserts.append(SimilarPost(post_id=pid, similar_id=post_id, score=score))
            continue
        weakest = min(rows, key=lambda r: (r.score, r.similar_id))
        if score > weakest.score:
            drops.append(weakest.pk)
            inserts.append(SimilarPost(post_id=pid, similar_id=post_id, score=score))
    if drops:
        SimilarPost.objects.filter(pk__in=drops).delete()
    if updates:
        SimilarPost.objects.bulk_update(updates, ["score"])
    if inserts:
        SimilarPost.objects.bulk_create(inserts, ignore_conflicts=True)
    return len(inserts)


def _sync_features(post_id: int, features: set[str]) -> None:
    existing = set(PostFeature.objects.filter(post_id=post_id).values_list("feature", flat=True))
    if existing - features:
        PostFeature.objects.filter(post_id=post_id, feature__in=existing - features).delete()
    if features - existing:
        PostFeature.objects.bulk_create(
            [PostFeature(post_id=post_id, feature=f) for f in sorted(features - existing)],
            ignore_conflicts=True,
        )


def _leave_lists(post_id: int) -> list[int]:
    """Remove `post_id` from every other post's list; return the posts to refill."""
    affected = list(
        SimilarPost.objects.filter(similar_id=post_id)
        .order_by("-post_id")
        .values_list("post_id", flat=True)
    )
    if affected:
        SimilarPost.objects.filter(similar_id=post_id).delete()
    return affected


def _refill(post_ids: list[int]) -> None:
    for pid in post_ids[:REFILL_LIMIT]:
        post = _post(pid)
        if post is None:
            continue
        _store_list(pid, _scored_candidates(pid, post_features(post)))


@transaction.atomic
def post_refresh(post_id: int) -> str:
    """Bring the suggestions around one post up to date with its current state.

    Safe to run any number of times, in any order with other posts' refreshes, and
    after the post was deleted. Returns what was done: "listed", "withdrawn" or "gone".
    """
    post = _post(post_id)
    if post is None or post.status != BookPost.Status.AVAILABLE:
        PostFeature.objects.filter(post_id=post_id).delete()
        affected = _leave_lists(post_id)
        if post is None:
            SimilarPost.objects.filter(post_id=post_id).delete()
        else:
            # Its own page still shows similar available posts.
            _store_list(post_id, _scored_candidates(post_id, post_features(post)))
        _refill([pid for pid in affected if pid != post_id])
        return "gone" if post is None else "withdrawn"
    features = post_features(post)
    _sync_features(post_id, features)
    scored = _scored_candidates(post_id, features)
    _store_list(post_id, scored)
    _join_lists(post_id, scored)
    return "listed"


def rebuild(*, batch_size: int = 200, progress: Callable[[int, int], None] | None = None) -> int:
    """Recompute every feature set and list: features first (all posts), then lists.
    Each batch is its own transaction. Returns the number of posts processed."""
    total = BookPost.objects.count()
    if progress:
        progress(0, 2 * total)
    done = 0
    for ids in pk_batches(BookPost.objects.all(), batch_size=batch_size):  # pass 1: features
        posts = list(_posts().filter(pk__in=ids))
        with transaction.atomic():
            PostFeature.objects.filter(post_id__in=ids).delete()
            rows = [
                PostFeature(post_id=p.pk, feature=f)
                for p in posts
                if p.status == BookPost.Status.AVAILABLE
                for f in sorted(post_features(p))
            ]
            PostFeature.objects.bulk_create(rows, batch_size=1000)
        done += len(ids)
        if progress:
            progress(min(done, total), 2 * total)
    features_of: dict[int, set[str]] = {}
    for ids in pk_batches(BookPost.objects.all(), batch_size=batch_size):  # pass 2: lists
        features_of.clear()
        for pid, feature in PostFeature.objects.filter(post_id__in=ids).values_list(
            "post_id", "feature"
        ):
            features_of.setdefault(pid, set()).add(feature)
        # Posts that are not available have no stored features: compute theirs from the
        # posts themselves, loaded together rather than one by one.
        unlisted = [pid for pid in ids if pid not in features_of]
        for post in _posts().filter(pk__in=unlisted):
            features_of[post.pk] = post_features(post)
        with transaction.atomic():
            for pid in ids:
                features = features_of.get(pid)
                _store_list(pid, _scored_candidates(pid, features) if features else [])
        done += len(ids)
        if progress:
            progress(min(done, 2 * total), 2 * total)
    return total
