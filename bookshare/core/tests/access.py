"""Who may use each view: ONE line per URL name, read by the generated authorization
matrix (test_matrix.py) and fuzz test (test_fuzz.py).

A route that is not listed here is still tested, under the strict default: anonymous
and unverified visitors must not be able to write through it (their POST is refused or
changes nothing), and no role gets a 5xx. Declare it to say who may use it and how to
build its URL (`kwargs` gets the owner and returns the URL's parameters).

Views that must be open to anonymous visitors say why (`reason`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Access:
    # "public": anyone reads; "open": anyone may post (reason required); "signed_in";
    # "verified": a signed-in member with a confirmed address; "owner": only the member
    # who owns the object in the URL; "perm": staff with `perm`; "undeclared" (default).
    kind: str
    reason: str = ""
    kwargs: Callable | None = None
    perm: str = ""
    writes: bool = False


def public(reason: str = "a public page", kwargs=None) -> Access:
    return Access("public", reason=reason, kwargs=kwargs)


def open_form(reason: str, kwargs=None) -> Access:
    return Access("open", reason=reason, kwargs=kwargs, writes=True)


def signed_in(writes: bool = False) -> Access:
    return Access("signed_in", writes=writes)


def verified(writes: bool = True, kwargs=None) -> Access:
    return Access("verified", writes=writes, kwargs=kwargs)


def owner(kwargs, writes: bool = True) -> Access:
    return Access("owner", kwargs=kwargs, writes=writes)


def perm(permission: str, writes: bool = False) -> Access:
    return Access("perm", perm=permission, writes=writes)


def _post(user):
    from books.tests.factories import BookPostFactory

    return {"pk": BookPostFactory(owner=user).pk}


def _book(user):
    from books.tests.factories import BookPostFactory

    return {"pk": BookPostFactory(owner=user).book_id}


def _genre(_user):
    from books.tests.factories import GenreFactory

    return {"slug": GenreFactory(slug="fantasy", name="Fantasy").slug}


def _review(user):
    from reactions.tests.factories import ReviewFactory

    return {"pk": ReviewFactory(user=user).pk}


def _list(user):
    from lists.tests.factories import CustomListFactory

    return {"pk": CustomListFactory(owner=user).pk}


def _username(user):
    return {"username": user.username}


ACCESS: dict[str, Access] = {
    "home": public(),
    "healthz": public("load balancers and monitors probe it; detail only for staff"),
    "event_stats": perm("eventbus.view_delivery"),
    "accounts:register": open_form("the sign-up form"),
    "accounts:verify": open_form("code entry for the browser that just registered"),
    "accounts:verify_resend": open_form("a new code for the browser that just registered"),
    "accounts:login": open_form("the sign-in form"),
    "accounts:logout": open_form("signing out (POST) needs no account"),
    "accounts:password_change": signed_in(writes=True),
    "accounts:password_change_done": signed_in(),
    "accounts:password_reset": open_form("'forgot my password' is for signed-out people"),
    "accounts:password_reset_done": public(),
    "accounts:password_reset_confirm": open_form(
        "the emailed link; the token is the credential",
        kwargs=lambda u: {"uidb64": "MQ", "token": "bad-token"},
    ),
    "accounts:password_reset_complete": public(),
    "accounts:profile": public("member profiles are public", kwargs=_username),
    "accounts:profile_edit": owner(_username),
    "books:search": public(),
    "books:post_create": verified(),
    "books:post_detail": public(kwargs=_post),
    "books:post_edit": owner(_post),
    "books:post_remove": owner(_post),
    "books:book_detail": public(kwargs=_book),
    "books:genre": public(kwargs=_genre),
    "catalogue:book_lists": public(kwargs=_book),
    "reactions:post_like": verified(kwargs=_post),
    "reactions:post_unlike": verified(kwargs=_post),
    "reactions:review_edit": verified(kwargs=_book),
    "reactions:review_remove": owner(_review),
    "lists:mine": signed_in(),
    "lists:create": signed_in(writes=True),
    "lists:detail": public("public reading lists are shareable", kwargs=_list),
    "lists:edit": owner(_list),
    "lists:delete": owner(_list),
    "lists:reorder": owner(_list),
    "lists:import": signed_in(writes=True),
    # lists:item_move, item_note, item_remove, book_update (an empty POST names no list:
    # 404), import_detail, import_failed: the strict default.
    "metrics": perm("eventbus.view_delivery"),
    "about": public("site information"),
    "how_sharing_works": public("site information"),
    "privacy": public("site information"),
    "terms": public("site information"),
    "contact": public("site information"),
    "favicon.ico": public("browsers ask for it"),
    "accounts:verify_change_email": open_form(
        "corrects the address of the browser that just registered (rate-limited)"
    ),
    "discovery:trending": public("what is popular is public; private lists never count"),
    "discovery:for_you": signed_in(),
    "notifications:list": signed_in(),
    "notifications:bell": signed_in(),
    "notifications:settings": signed_in(writes=True),
    "notifications:mark_all_read": signed_in(writes=True),
    "notifications:mark_read": signed_in(writes=True),
}

UNDECLARED = Access("undeclared", writes=True)


def access_for(name: str) -> Access:
    return ACCESS.get(name, UNDECLARED)
