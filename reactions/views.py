"""Like/unlike (a plain form POST; htmx swaps the button in place) and a member's own
review of a book (write, edit, remove). Only verified members write; another member's
review is simply not found (404), as with posts."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.decorators import verified_required
from books.models import Book, BookPost

from . import selectors, services
from .forms import ReviewForm
from .models import Review


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _gate(request, next_url: str):
    """None for a verified member; otherwise where to send them (sign-in or verify page),
    coming back to `next_url` (the page the button was on, not the POST-only URL)."""
    user = request.user
    if user.is_authenticated and user.is_verified:
        return None
    if not user.is_authenticated:
        response = redirect_to_login(next_url)
    else:
        messages.info(request, "Please confirm your email address first.")
        response = redirect(f"{reverse('accounts:verify')}?{urlencode({'next': next_url})}")
    if is_htmx(request):
        # A redirect inside an htmx swap would put the sign-in page into the button.
        return HttpResponseClientRedirect(response["Location"])
    return response


def _back(request, default: str) -> str:
    candidate = request.POST.get("next", "")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _post_or_404(pk: int) -> BookPost:
    return get_object_or_404(BookPost.objects.only("pk", "book_id", "owner_id"), pk=pk)


def _like_response(request, post: BookPost):
    if is_htmx(request):
        state = selectors.post_like_state(post=post, user=request.user)
        return render(
            request, "reactions/_like_button.html", {"post": post, "user": request.user, **state}
        )
    return redirect(_back(request, post.get_absolute_url()))


@require_POST
def like(request, pk: int):
    post = _post_or_404(pk)
    if (response := _gate(request, post.get_absolute_url())) is not None:
        return response
    services.post_like(user=request.user, post=post)
    return _like_response(request, post)


@require_POST
def unlike(request, pk: int):
    post = _post_or_404(pk)
    if (response := _gate(request, post.get_absolute_url())) is not None:
        return response
    services.post_unlike(user=request.user, post=post)
    return _like_response(request, post)


@verified_required
@require_http_methods(["GET", "POST"])
def review_edit(request, pk: int):
    """Write or change the member's review of book `pk` (one per member per book)."""
    book = get_object_or_404(Book, pk=pk)
    review = selectors.review_of(user=request.user, book=book)
    initial = {"rating": review.rating, "text": review.text} if review else None
    form = ReviewForm(request.POST or None, initial=initial, auto_id="review_%s")
    if request.method == "POST" and form.is_valid():
        try:
            services.review_submit(
                user=request.user,
                book=book,
                rating=form.cleaned_data["rating"],
                text=form.cleaned_data["text"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request,
                "Review saved."
                if review
                else "Thanks — your review is up. The book's average updates within a few seconds.",
            )
            return redirect(f"{book.get_absolute_url()}#my-review")
    return render(
        request, "reactions/review_form.html", {"form": form, "book": book, "review": review}
    )


@verified_required
@require_http_methods(["GET", "POST"])
def review_remove(request, pk: int):
    # Another member's review is simply not found: no hint that it exists.
    review = get_object_or_404(Review.objects.select_related("book"), pk=pk, user=request.user)
    if request.method == "POST":
        services.review_remove(review=review)
        messages.success(request, "Your review is removed.")
        return redirect(review.book)
    return render(request, "reactions/review_remove.html", {"review": review})
