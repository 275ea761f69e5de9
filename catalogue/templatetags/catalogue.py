from django import template

from .. import selectors

register = template.Library()


@register.inclusion_tag("catalogue/_book_panel.html", takes_context=True)
def book_catalogue(context, book):
    """Details from outside catalogues, links elsewhere and prices, for a book page."""
    details = selectors.book_details(book=book)
    return {
        "book": book,
        "details": details,
        # Between posting a bare ISBN and the consumer opening the job.
        "details_waiting": details.waiting if details else selectors.is_placeholder(book=book),
        "links": selectors.external_links(book=book),
        "user": context.get("user"),
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "SITE_NAME": context.get("SITE_NAME"),
        **selectors.price_table(book=book),
    }


@register.inclusion_tag("catalogue/_on_lists.html")
def book_on_lists(book):
    """The public lists the book is on: a count and the first few (one query)."""
    return {"book": book, "on_lists": selectors.public_lists_with_book(book=book)}
