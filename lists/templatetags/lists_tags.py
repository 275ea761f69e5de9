"""List buttons and lists for other apps' pages, each one line in their templates:

    {% load lists_tags %}{% book_lists book %}          book and post pages
    {% book_lists hit.book_id title=hit.title compact=True %}   search results
    {% include "lists/_member_lists.html" %}          a profile (needs `member`)

The viewer's lists and their memberships are loaded once per request: the first button
on a page loads the lists with the memberships of every book on the page (`page_obj`)
in one query, so a page of results costs one query, not two per result.
"""

from django import template
from django.urls import reverse

from .. import selectors
from ..models import STATUS_KINDS, ListKind

register = template.Library()


def _book_ids_on_page(context) -> set[int]:
    ids: set[int] = set()
    page_obj = context.get("page_obj") if context is not None else None
    for obj in getattr(page_obj, "object_list", None) or ():
        book_id = getattr(obj, "book_id", None)
        if isinstance(book_id, int):
            ids.add(book_id)
    return ids


def controls_context(
    request, *, book_id: int, title: str, next_url: str = "", context=None, compact: bool = False
):
    """What `_book_controls.html` shows for one book. The buttons are decided here, not
    in the template (a list page renders this once per item): the status lists, then
    the others (compact: only Favourites and the lists the book is on)."""
    user = getattr(request, "user", None)
    base = {"book_id": book_id, "title": title, "next": next_url or request.get_full_path()}
    if user is None or not user.is_authenticated:
        base["anonymous"] = True
        return base
    state = getattr(request, "_lists_state", None) if context is not None else None
    if state is None:
        lists, members = selectors.viewer_lists_and_memberships(
            user=user, book_ids=_book_ids_on_page(context) | {book_id}
        )
        state = {"lists": lists, "members": members}
        if context is not None:
            request._lists_state = state
    elif book_id not in state["members"]:
        wanted = (_book_ids_on_page(context) | {book_id}) - set(state["members"])
        state["members"].update(selectors.memberships(user=user, book_ids=wanted))
    on = state["members"].get(book_id, set())
    status, status_buttons, other_buttons = None, [], []
    for rl in state["lists"]:
        is_on = rl.pk in on
        if rl.kind in STATUS_KINDS:
            status = rl if is_on and status is None else status
            status_buttons.append({"pk": rl.pk, "name": rl.name, "on": is_on, "prefix": ""})
        elif not compact or is_on or rl.kind == ListKind.FAVOURITES:
            other_buttons.append({"pk": rl.pk, "name": rl.name, "on": is_on, "prefix": "+ "})
    base.update(
        action=reverse("lists:book_update", args=[book_id]),
        buttons=status_buttons + other_buttons,
        status=status,
        compact=compact,
    )
    return base


@register.inclusion_tag("lists/_book_controls.html", takes_context=True)
def book_lists(context, book, title: str = "", compact: bool = False):
    request = context.get("request")
    book_id = book if isinstance(book, int) else book.pk
    title = title or getattr(book, "title", "")
    data = controls_context(
        request, book_id=book_id, title=str(title), context=context, compact=compact
    )
    data["compact"] = compact
    data["csrf_token"] = context.get("csrf_token")
    return data


@register.simple_tag(takes_context=True)
def member_lists(context, member):
    request = context.get("request")
    return selectors.lists_of_member(member=member, viewer=getattr(request, "user", None))
