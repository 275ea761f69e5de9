from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.decorators import verified_required
from books.models import Book, Genre

from . import selectors, services

SLUG = re.compile(r"[-a-zA-Z0-9_]{1,80}")


def _back(request, default: str):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


@login_required
def for_you(request):
    return render(
        request, "discovery/for_you.html", {"items": selectors.for_you(user=request.user)}
    )


def trending(request):
    genre = None
    slug = request.GET.get("genre", "")
    if slug and SLUG.fullmatch(slug[:81]):
        genre = Genre.objects.filter(slug=slug).first()
    return render(
        request,
        "discovery/trending.html",
        {
            "ranked": selectors.trending_books(genre=genre),
            "genre": genre,
            "unknown_genre": bool(slug) and genre is None,
        },
    )


@require_POST
@verified_required
def not_interested(request, pk: int):
    book = get_object_or_404(Book, pk=pk)
    services.book_not_interested(user=request.user, book=book)
    messages.success(request, f"We won't suggest “{book.title}” again.")
    return _back(request, "discovery:for_you")


@require_POST
@verified_required
def genre_join(request, slug: str):
    genre = get_object_or_404(Genre, slug=slug)
    if services.genre_join(user=request.user, genre=genre):
        messages.success(request, f"You joined {genre.name}.")
    return redirect(genre.get_absolute_url())


@require_POST
@verified_required
def genre_leave(request, slug: str):
    genre = get_object_or_404(Genre, slug=slug)
    if services.genre_leave(user=request.user, genre=genre):
        messages.success(request, f"You left {genre.name}.")
    return redirect(genre.get_absolute_url())
