from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from accounts.decorators import verified_required

from . import search as search_index
from . import selectors, services
from .forms import PostCreateForm, PostEditForm, SearchForm
from .models import BookPost, Genre


def page_size() -> int:
    return getattr(settings, "BOOKS_PAGE_SIZE", 20)


def paginate(request, object_list, *, param: str = "page", per_page: int | None = None, count=None):
    """A page of `object_list`; bad or negative page numbers give the first or last page.
    `count`: the number of objects when the caller knows it already (no COUNT query).

    The first page of a queryset is read with one row more than it shows: when that row
    is not there, everything is on this page and its length is the count, so the COUNT
    query is only made for results longer than a page (most books have a few posts and
    reviews, most lists fit on a page)."""
    per_page = per_page or page_size()
    raw = request.GET.get(param, "1")
    raw = raw[:12] if isinstance(raw, str) else 1
    if count is None and raw == "1" and isinstance(object_list, QuerySet):
        head = list(object_list[: per_page + 1])
        paginator = Paginator(object_list, per_page)
        if len(head) <= per_page:
            paginator.count = len(head)  # a cached_property: no COUNT query
        return Page(head[:per_page], 1, paginator)
    paginator = Paginator(object_list, per_page)
    if count is not None:
        paginator.count = count  # a cached_property: this saves its query
    return paginator.get_page(raw)


def home(request):
    return render(
        request,
        "books/home.html",
        {
            "page_obj": paginate(request, selectors.posts_latest()),
            "genres": selectors.genres_with_counts(),
        },
    )


def post_detail(request, pk: int):
    post = selectors.post_detail(pk=pk)
    if post is None:
        raise Http404("No such post.")
    return render(
        request,
        "books/post_detail.html",
        {
            "post": post,
            "book": post.book,
            "similar": selectors.similar_posts(post=post),
            "is_owner": request.user.is_authenticated and post.owner_id == request.user.pk,
        },
    )


def book_detail(request, pk: int):
    book = selectors.book_detail(pk=pk)
    if book is None:
        raise Http404("No such book.")
    page_obj = paginate(request, selectors.posts_for_book(book=book), count=book.posts_total)
    return render(request, "books/book_detail.html", {"book": book, "page_obj": page_obj})


def genre(request, slug: str):
    genre = get_object_or_404(Genre, slug=slug)
    counts, generation = selectors.genre_post_counts_and_generation()
    # The count the home page shows (cached, forgotten when posts change): no COUNT over
    # every post of the genre per view. The cards come from the shared cache under the
    # same generation (books_tags.genre_cards).
    page_obj = paginate(
        request, selectors.posts_for_genre(genre=genre), count=counts.get(genre.pk, 0)
    )
    return render(
        request,
        "books/genre.html",
        {"genre": genre, "page_obj": page_obj, "cards_generation": generation},
    )


@verified_required
@require_http_methods(["GET", "POST"])
def post_create(request):
    if request.method == "POST" and "lookup" in request.POST:
        # The "Look up" button (no scripts): fill in what the catalogues know, post nothing.
        from catalogue.lookup import lookup_isbn, merge_into

        lookup = lookup_isbn(request.POST.get("isbn", ""), member=request.user)
        form = PostCreateForm(merge_into(request.POST, lookup))
        form.errors.clear()  # a lookup is not a submission: no "field required" yet
        response = render(
            request,
            "books/post_form.html",
            {"form": form, "lookup": lookup},
            status=429 if lookup.status == "limited" else 200,
        )
        if lookup.retry_after:
            response["Retry-After"] = str(lookup.retry_after)
        return response
    form = PostCreateForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            post = services.post_share(
                owner=request.user,
                isbn=data["isbn"],
                title=data["title"],
                authors=data["authors"],
                book_details=form.book_details(),
                offer=data["offer"],
                condition=data["condition"],
                location=data["location"],
                note=data["note"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request, "Your book is shared. It shows up in search within a few seconds."
            )
            return redirect(post)
    return render(request, "books/post_form.html", {"form": form})


def _own_post(request, pk: int) -> BookPost:
    # Another member's post is simply not found: no hint that it exists.
    return get_object_or_404(BookPost.objects.select_related("book"), pk=pk, owner=request.user)


@verified_required
@require_http_methods(["GET", "POST"])
def post_edit(request, pk: int):
    post = _own_post(request, pk)
    form = PostEditForm(request.POST or None, instance=post)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        post = BookPost.objects.select_related("book").get(pk=pk)
        services.post_update(post=post, **changes)
        messages.success(request, "Post updated.")
        return redirect(post)
    return render(request, "books/post_edit.html", {"form": form, "post": post})


@verified_required
@require_http_methods(["GET", "POST"])
def post_remove(request, pk: int):
    post = _own_post(request, pk)
    if request.method == "POST":
        services.post_remove(post=post)
        messages.success(request, f"“{post.book.title}” is no longer shared.")
        return redirect("accounts:profile", username=request.user.get_username())
    return render(request, "books/post_remove.html", {"post": post})


STATUS_ANY = "any"


def search(request):
    genres = list(Genre.objects.all())
    form = SearchForm(request.GET or None, genres=genres)
    context = {"form": form, "q": "", "page_obj": None, "searched": False}
    if not request.GET or not form.is_valid():
        context["popular_genres"] = selectors.popular_genres()
        return render(request, "books/search.html", context)
    data = form.cleaned_data
    q = data["q"]
    book_id = search_index.book_for_isbn(q) if q else None
    if book_id is not None:
        return redirect("books:book_detail", pk=book_id)
    status = data["status"] or BookPost.Status.AVAILABLE
    filters = search_index.Filters(
        status=None if status == STATUS_ANY else status,
        offer=data["offer"] or None,
        language=data["language"] or None,
        genre=data["genre"] or None,
    )
    results = search_index.search_posts(q, filters=filters, correct=not request.GET.get("exact"))
    has_words = not results.parsed.is_empty
    has_filters = any([filters.offer, filters.language, filters.genre])
    if q and not has_words:
        messages.info(request, "Add a word to search for (exclusions alone match nothing).")
    page_obj = paginate(request, results) if (has_words or has_filters) else None
    context.update(
        q=q,
        searched=True,
        results=results,
        page_obj=page_obj,
        filter_query=_filters_query(request),
        shown_q=results.parsed.raw if results.corrected_from is not None else q,
    )
    if page_obj is None or not page_obj.paginator.count:
        context["popular_genres"] = selectors.popular_genres()
        if has_words and results.corrected_from is None:
            context["spelling"] = results.suggestion
    return render(request, "books/search.html", context)


def _filters_query(request) -> str:
    """The current filters as a query string, without the words and the page."""
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("q", None)
    params.pop("exact", None)
    return params.urlencode()
