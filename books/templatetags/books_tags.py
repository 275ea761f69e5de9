from django import template
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from books import selectors
from books.covers import placeholder_svg
from books.views import paginate
from bookshare.core import cache

register = template.Library()


@register.inclusion_tag("books/_member_posts.html", takes_context=True)
def member_posts(context, member):
    """A member's book posts, for their profile page: paginated with `?posts_page=`, in a
    constant number of queries."""
    request = context.get("request")
    page_obj = None
    if request is not None:
        page_obj = paginate(request, selectors.posts_for_member(member=member), param="posts_page")
    is_self = bool(
        request is not None and request.user.is_authenticated and request.user.pk == member.pk
    )
    return {"member": member, "page_obj": page_obj, "request": request, "is_self": is_self}


# How long a genre page's cards are served from the shared cache: a new, removed or
# given-away post shows at once (the key's generation changes with the genre counts).
GENRE_CARDS_SECONDS = 10


@register.simple_tag(takes_context=True)
def genre_cards(context, genre, page_obj, generation):
    """A genre page's cards, the same for everyone: rendered once per page and generation
    and shared through the cache. They carry a slot per like count, not the count
    (`like_count_slots`): the template fills them with reactions' `fill_like_counts`, so
    likes are read on every view and never served stale."""
    per_page = page_obj.paginator.per_page
    key = f"books:genre-cards:{genre.pk}:{generation}:{page_obj.number}:{per_page}"
    cards = cache.get(key)
    if cards is None:
        cards = render_to_string(
            "books/_genre_cards.html",
            {"page_obj": page_obj, "request": context.get("request"), "like_count_slots": True},
        )
        cache.set(key, cards, GENRE_CARDS_SECONDS)
    return mark_safe(cards)  # noqa: S308 - rendered by our own template


@register.simple_tag(takes_context=True)
def page_url(context, number, param="page"):
    """The current URL's query string with `param` set to `number`."""
    request = context["request"]
    params = request.GET.copy()
    params[param] = number
    return "?" + params.urlencode()


@register.simple_tag
def book_cover(book, decorative=False, title="", authors="", genre="", src=""):
    """`{% book_cover book %}`: the book's cover image, or a generated placeholder (an
    inline SVG with title, author and a genre colour). Works for a Book, a search entry
    (anything with title/authors/genres/cover), or explicit title=… authors=… genre=….
    `decorative=True` when the title is already next to it (cards): no alt text."""
    if book is not None:
        title = title or book.title
        if hasattr(book, "cover_src"):  # a Book
            src = src or book.cover_src
            authors = authors or book.author_names
            genres = book.genre_list
            genre = genre or (genres[0].slug if genres else "")
        else:  # a SearchEntry
            src = src or book.cover
            authors = authors or book.authors
            genre = genre or (book.genre_slugs.strip("|").split("|")[0] if book.genre_slugs else "")
    if src:
        alt = "" if decorative else f"Cover of {title}"
        return format_html(
            '<img class="cover-img" src="{}" alt="{}" width="200" height="300" loading="lazy" '
            'referrerpolicy="no-referrer">',
            src,
            alt,
        )
    label = None if decorative else f"Cover of {title}, by {authors}" if authors else title
    return mark_safe(  # noqa: S308 - every text in it is escaped by placeholder_svg
        placeholder_svg(title=title, authors=authors, genre_key=genre, label=label)
    )
