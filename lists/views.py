"""List pages, one-click list buttons (plain forms; htmx swaps them in place) and the
library import. Private lists and other members' import jobs are 404, not 403."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from books.models import Book
from books.selectors import attach_credits
from books.views import paginate

from . import selectors, services
from .forms import ImportForm, ListForm, NoteForm
from .importer import ImportFileError
from .models import ImportJob, ListItem, ReadingList
from .templatetags.lists_tags import controls_context


def _is_htmx(request) -> bool:
    return bool(getattr(request, "htmx", False))


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _own_list(request, pk: int) -> ReadingList:
    """The signed-in member's list, or 404 (another member's list, private or not, is
    never writable, and a private one must not be seen to exist)."""
    return get_object_or_404(ReadingList.objects.select_related("owner"), pk=pk, owner=request.user)


def list_page_size() -> int:
    return getattr(settings, "LISTS_PAGE_SIZE", 24)


@login_required
@require_GET
def my_lists(request):
    services.lists_ensure_builtin(user=request.user)
    return render(
        request,
        "lists/my_lists.html",
        {
            "lists": selectors.lists_of_member(member=request.user, viewer=request.user),
            "jobs": selectors.import_jobs_of(user=request.user)[:5],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def list_create(request):
    form = ListForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reading_list = services.list_create(owner=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"List “{reading_list.name}” made.")
            return redirect(reading_list)
    return render(request, "lists/list_form.html", {"form": form})


@require_GET
def list_detail(request, pk: int):
    reading_list = selectors.list_get(pk=pk, viewer=request.user)
    if reading_list is None:
        raise Http404("No such list.")
    page_obj = paginate(
        request, selectors.list_items(reading_list=reading_list), per_page=list_page_size()
    )
    attach_credits([item.book for item in page_obj])
    is_owner = request.user.is_authenticated and request.user.pk == reading_list.owner_id
    return render(
        request,
        "lists/list_detail.html",
        {"list": reading_list, "page_obj": page_obj, "is_owner": is_owner},
    )


@login_required
@require_http_methods(["GET", "POST"])
def list_edit(request, pk: int):
    reading_list = _own_list(request, pk)
    form = ListForm(request.POST or None, instance=reading_list)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.list_update(
                reading_list=ReadingList.objects.get(pk=reading_list.pk),
                name=data.get("name", reading_list.name),
                description=data["description"],
                is_public=data["is_public"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "List saved.")
            return redirect("lists:detail", pk=pk)
    return render(request, "lists/list_form.html", {"form": form, "list": reading_list})


@login_required
@require_http_methods(["GET", "POST"])
def list_delete(request, pk: int):
    reading_list = _own_list(request, pk)
    if reading_list.is_builtin:
        messages.error(request, "Built-in lists can't be deleted.")
        return redirect(reading_list)
    if request.method == "POST":
        name = reading_list.name
        services.list_delete(reading_list=reading_list)
        messages.success(request, f"List “{name}” deleted.")
        return redirect("lists:mine")
    return render(request, "lists/list_delete.html", {"list": reading_list})


def _own_item(request, pk: int, item_id: int) -> ListItem:
    return get_object_or_404(
        ListItem.objects.select_related("list", "book"),
        pk=item_id,
        list_id=pk,
        owner=request.user,
    )


@login_required
@require_POST
def item_move(request, pk: int, item_id: int):
    item = _own_item(request, pk, item_id)
    try:
        services.item_move(item=item, direction=request.POST.get("direction", ""))
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return redirect(_next_url(request, item.list.get_absolute_url()))


@login_required
@require_POST
def item_note(request, pk: int, item_id: int):
    item = _own_item(request, pk, item_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.item_set_note(item=item, note=form.cleaned_data["note"])
        messages.success(request, "Note saved.")
    else:
        messages.error(request, "A note is at most 280 characters.")
    return redirect(_next_url(request, item.list.get_absolute_url()))


@login_required
@require_POST
def item_remove(request, pk: int, item_id: int):
    item = _own_item(request, pk, item_id)
    services.list_remove_book(reading_list=item.list, book=item.book)
    messages.success(request, f"“{item.book.title}” removed from {item.list.name}.")
    return redirect(_next_url(request, item.list.get_absolute_url()))


@login_required
@require_POST
def list_reorder(request, pk: int):
    """The order of a page of items after a drag (scripts only; the forms move one step)."""
    reading_list = _own_list(request, pk)
    try:
        ids = [int(v) for v in request.POST.getlist("item")][:500]
        services.list_reorder(reading_list=reading_list, item_ids=ids)
    except (ValueError, ValidationError):
        return HttpResponse("That order could not be saved; reload the page.", status=409)
    return HttpResponse(status=204)


@login_required
@require_POST
def book_lists_update(request, book_id: int):
    """One click: `add=<list id>` or `remove=<list id>` for one of the member's lists."""
    book = get_object_or_404(Book, pk=book_id)
    add, remove = request.POST.get("add"), request.POST.get("remove")
    raw = add or remove
    if not raw or not raw.isdigit():
        raise Http404("No such list.")
    reading_list = _own_list(request, int(raw))
    if add:
        services.list_add_book(reading_list=reading_list, book=book)
        text = f"“{book.title}” is on {reading_list.name}."
    else:
        services.list_remove_book(reading_list=reading_list, book=book)
        text = f"“{book.title}” removed from {reading_list.name}."
    if _is_htmx(request):
        context = controls_context(
            request, book_id=book.pk, title=book.title, next_url=request.POST.get("next", "")
        )
        context["announce"] = text
        return render(request, "lists/_book_controls.html", context)
    messages.success(request, text)
    return redirect(_next_url(request, book.get_absolute_url()))


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_start(
                user=request.user, filename=upload.name, content=upload.read()
            )
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect(job)
    return render(
        request,
        "lists/import_upload.html",
        {
            "form": form,
            "jobs": selectors.import_jobs_of(user=request.user)[:10],
        },
    )


def _own_job(request, pk: int) -> ImportJob:
    return get_object_or_404(ImportJob, pk=pk, owner=request.user)


@login_required
@require_GET
def import_detail(request, pk: int):
    job = _own_job(request, pk)
    context = {"job": job}
    if job.is_done:
        context["skipped_rows"] = job.rows.filter(outcome="skipped").order_by("number")[:200]
    template = "lists/_import_progress.html" if _is_htmx(request) else "lists/import_detail.html"
    return render(request, template, context)


@login_required
@require_GET
def import_failed_csv(request, pk: int):
    from .importer import failed_rows_csv

    job = _own_job(request, pk)
    response = HttpResponse(failed_rows_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-not-imported.csv"'
    return response
