from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import verified_required
from books.forms import PostCreateForm
from books.models import Book
from books.views import paginate

from . import selectors, services
from .lookup import lookup_isbn, merge_into


@require_GET
@verified_required
def lookup(request):
    """htmx: the post form's book fields, filled in from what the ISBN tells us."""
    result = lookup_isbn(request.GET.get("isbn", "")[:40], member=request.user)
    data = merge_into(request.GET, result)
    form = PostCreateForm(data)
    form.errors.clear()
    # Over the member's limit: htmx swaps only 2xx answers, so it gets the fragment with
    # the message as a 200; anything else gets a 429. Both carry Retry-After.
    status = 429 if result.status == "limited" and not _is_htmx(request) else 200
    response = render(
        request, "catalogue/_lookup.html", {"form": form, "lookup": result}, status=status
    )
    if result.retry_after:
        response["Retry-After"] = str(result.retry_after)
    if result.status == "found":
        # The hidden field outside the swapped part remembers which ISBN filled the form.
        response.content += (
            f'<input type="hidden" name="looked_up" id="id_looked_up" value="{result.isbn13}"'
            ' hx-swap-oob="true">'
        ).encode()
    return response


@require_http_methods(["GET", "POST"])
def prices(request, pk: int):
    """GET: the price table (htmx polls it while a comparison runs). POST: ask for one."""
    book = get_object_or_404(Book, pk=pk)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('accounts:login')}?next={book.get_absolute_url()}")
        if not getattr(request.user, "is_verified", False):
            messages.error(request, "Please confirm your email address first.")
            return redirect(book)
        notice, level = "", messages.INFO
        try:
            _, started = services.comparison_request(book=book, member=request.user)
        except ValidationError as exc:
            notice, level = exc.messages[0], messages.ERROR
        else:
            if not started:
                notice = "These are the latest prices we have."
        if _is_htmx(request):
            # The swapped section carries the notice (no page reload shows messages).
            context = {"book": book, "notice": notice, **selectors.price_table(book=book)}
            return render(request, "catalogue/_prices.html", context)
        if notice:
            messages.add_message(request, level, notice)
        return redirect(f"{book.get_absolute_url()}#prices")
    if not _is_htmx(request):
        return redirect(f"{book.get_absolute_url()}#prices")
    return render(
        request, "catalogue/_prices.html", {"book": book, **selectors.price_table(book=book)}
    )


@require_GET
def book_lists(request, pk: int):
    """Every public list the book is on (the book page shows the first few)."""
    book = get_object_or_404(Book.objects.only("id", "title"), pk=pk)
    page_obj = paginate(request, selectors.public_list_items(book=book), per_page=LISTS_PAGE_SIZE)
    return render(request, "catalogue/book_lists.html", {"book": book, "page_obj": page_obj})


LISTS_PAGE_SIZE = 50


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"
