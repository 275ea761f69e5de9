from django import template
from django.conf import settings

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


@register.inclusion_tag("reactions/_book_reviews.html", takes_context=True)
def book_reviews(context, book):
    """The book's rating (from BookRating), its reviews paginated with `?reviews_page=`,
    and the member's own review form: a constant number of queries."""
    request = context.get("request")
    user = getattr(request, "user", None)
    own = selectors.review_of(user=user, book=book)
    initial = {"rating": own.rating, "text": own.text} if own else None
    page_obj = None
    if request is not None:
        page_obj = paginate(
            request,
            selectors.reviews_for_book(book=book),
            param="reviews_page",
            per_page=settings.REACTIONS_REVIEWS_PAGE_SIZE,
        )
    return {
        "request": request,
        "user": user,
        "book": book,
        "rating": selectors.book_rating(book=book),
        "own": own,
        "form": ReviewForm(initial=initial, auto_id="review_%s"),
        "page_obj": page_obj,
        "can_review": bool(user is not None and user.is_authenticated and user.is_verified),
        "csrf_token": context.get("csrf_token"),
    }
