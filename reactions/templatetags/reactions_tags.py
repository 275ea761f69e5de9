"""Likes and reviews on other apps' pages, one line each:

    {% load reactions_tags %}{% like_button post %}     the post page: count and button
    {% post_like_count post %}                          a post card (or a search hit)
    {% book_reviews book %}                             the book page

`post_like_count` loads the counts of every post on the page at its first use (the
posts in `page_obj` and `similar`), so a page of cards costs one query, not one per card.
"""

import re

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from books.views import paginate

from .. import selectors
from ..forms import ReviewForm

register = template.Library()


@register.inclusion_tag("reactions/_like_button.html", takes_context=True)
def like_button(context, post):
    """The post's like count and a like/unlike button (a form; htmx swaps it in place)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "post": post,
        "user": user,
        "csrf_token": context.get("csrf_token"),
        **selectors.post_like_state(post=post, user=user),
    }


# Context variables that hold a page's post cards (BookPost or search entries: both have
# the post's id as their pk).
CARD_COLLECTIONS = ("page_obj", "similar")


def _post_ids_on_page(context) -> set[int]:
    from books.models import BookPost, SearchEntry

    ids: set[int] = set()
    for name in CARD_COLLECTIONS:
        collection = context.get(name)
        items = getattr(collection, "object_list", collection)
        if not isinstance(items, list | tuple):  # never run a query: only what was read
            items = getattr(items, "_result_cache", None) or ()
        ids.update(o.pk for o in items if isinstance(o, BookPost | SearchEntry))
    return ids


def like_count_for(context, post) -> int:
    request = context.get("request")
    counts = getattr(request, "_reactions_like_counts", None)
    if counts is None:
        counts = {}
        if request is not None:
            request._reactions_like_counts = counts
    if post.pk not in counts:
        wanted = (_post_ids_on_page(context) | {post.pk}) - set(counts)
        found = selectors.like_counts(post_ids=wanted)
        counts.update({pk: found.get(pk, 0) for pk in wanted})
    return counts[post.pk]


def _like_count_html(n: int) -> str:
    return format_html('<span class="like-count">{} like{}</span>', n, "" if n == 1 else "s")


# Cards rendered for a shared cache (the genre page) carry a slot per post instead of its
# count: `fill_like_counts` puts the current counts in, so likes never show stale.
_SLOT = "<!--like-count:{}-->"
_SLOT_RE = re.compile(r"<!--like-count:(\d+)-->")


@register.simple_tag(takes_context=True)
def post_like_count(context, post):
    """`<span class="like-count">3 likes</span>` for a post card or search hit (with
    `like_count_slots` in the context: a slot for `fill_like_counts`)."""
    if context.get("like_count_slots"):
        return mark_safe(_SLOT.format(int(post.pk)))  # noqa: S308 - an integer
    return _like_count_html(like_count_for(context, post))


@register.filter(is_safe=True)
def fill_like_counts(html: str) -> str:
    """`{{ cards|fill_like_counts }}`: the current like counts put into cards rendered
    with `like_count_slots` (one query for all of them)."""
    ids = {int(pk) for pk in _SLOT_RE.findall(html)}
    counts = selectors.like_counts(post_ids=ids) if ids else {}
    filled = _SLOT_RE.sub(lambda m: str(_like_count_html(counts.get(int(m.group(1)), 0))), html)
    return mark_safe(filled)  # noqa: S308 - our cards with our own markup put in


@register.inclusion_tag("reactions/_book_reviews.html", takes_context=True)
def book_reviews(context, book):
    """The book's rating (from BookRating), its reviews paginated with `?reviews_page=`,
    and the member's own review form: one query (`selectors.reviews_head`), then, for a
    book with reviews, the page of them (and a COUNT only when there is more than one
    page)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    head = selectors.reviews_head(book=book, user=user)
    rating, own = head.rating, head.own
    initial = {"rating": own.rating, "text": own.text} if own else None
    page_obj = None
    if request is not None:
        reviews = selectors.reviews_for_book(book=book)
        page_obj = paginate(
            request,
            reviews if head.any_reviews else reviews.none(),  # none(): no query at all
            param="reviews_page",
            per_page=settings.REACTIONS_REVIEWS_PAGE_SIZE,
        )
    return {
        "request": request,
        "user": user,
        "book": book,
        "rating": rating,
        "own": own,
        "form": ReviewForm(initial=initial, auto_id="review_%s"),
        "page_obj": page_obj,
        "can_review": bool(user is not None and user.is_authenticated and user.is_verified),
        "csrf_token": context.get("csrf_token"),
    }
