"""Authorization matrix, generated from the URL conf and the admin registry.

Roles: anonymous, unverified, member, owner, view-only staff, superuser. Every route
(bookshare/testing/routes.py) × every role, with the access each route declares in
access.py (or the strict default), and every ModelAdmin and admin action × every role.
A refused request must be a refusal (sign-in/verify redirect, 403, 404, 405) AND change
no data: the whole database is fingerprinted around it.
"""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.tests.factories import UserFactory, VerifiedUserFactory
from bookshare.testing.routes import all_routes

from .access import ACCESS, access_for

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "unverified", "member", "owner", "view_staff", "superuser"]
ALLOWED = {
    "public": set(ROLES),
    "open": set(ROLES),
    "signed_in": {"unverified", "member", "owner", "view_staff", "superuser"},
    "verified": {"member", "owner", "view_staff", "superuser"},
    "owner": {"owner"},
    "perm": {"superuser"},
    # Not declared: only the refusals of the strict default are asserted.
    "undeclared": {"member", "owner", "view_staff", "superuser"},
}
# Rows a refused request may still write: sessions, the sign-in lockout's log, the
# verification audit trail and the admin's own log.
UNTRACKED = {"sessions.session", "axes.accessattempt", "axes.accesslog", "axes.accessfailurelog"}
UNTRACKED |= {"accounts.verificationrecord", "admin.logentry"}

STATS = Counter()


def fingerprint() -> str:
    digest = hashlib.sha256()
    for model in apps.get_models():
        if model._meta.label_lower in UNTRACKED or not model._meta.managed:
            continue
        for row in model._default_manager.order_by("pk").values_list():
            digest.update(repr(row).encode())
    return digest.hexdigest()


def make_user(role: str):
    if role == "anonymous":
        return None
    if role == "unverified":
        return UserFactory()
    if role in ("member", "owner"):
        return VerifiedUserFactory()
    if role == "view_staff":
        user = VerifiedUserFactory(is_staff=True)
        user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
        return type(user).objects.get(pk=user.pk)
    return VerifiedUserFactory(is_staff=True, is_superuser=True)


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def is_refusal(response) -> bool:
    if response.status_code in (401, 403, 404, 405):
        return True
    if response.status_code == 302:
        location = response["Location"]
        return location.startswith(
            (reverse("accounts:login"), reverse("accounts:verify"), "/admin/login/")
        )
    return False


def default_kwargs(route) -> dict:
    values = {"IntConverter": 1, "SlugConverter": "x", "UUIDConverter": "0" * 32}
    return {name: values.get(conv, "x") for name, conv in route.converters.items()}


ROUTES = all_routes()


def test_the_url_conf_is_walked():
    names = {r.name for r in ROUTES}
    assert {"home", "books:post_edit", "accounts:login"} <= names
    # Declarations for routes that no longer exist are mistakes.
    assert set(ACCESS) <= names, set(ACCESS) - names


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
@pytest.mark.parametrize("role", ROLES)
def test_route_access(route, role):
    access = access_for(route.name)
    owner_user = make_user("owner")
    user = owner_user if role == "owner" else make_user(role)
    kwargs = access.kwargs(owner_user) if access.kwargs else default_kwargs(route)
    url = route.url(kwargs)
    client = client_for(user)
    allowed = role in ALLOWED[access.kind] or (
        access.kind == "perm" and user is not None and user.has_perm(access.perm)
    )
    methods = ["GET", "POST"] if access.writes else ["GET"]
    if access.kind == "undeclared":
        methods = ["GET", "POST"]
    for method in methods:
        before = fingerprint()
        response = client.get(url) if method == "GET" else client.post(url, {})
        STATS[response.status_code] += 1
        assert response.status_code < 500, (method, url, role)
        if access.kind in ("public", "open"):
            continue
        if allowed:
            # 405: the view takes another method (a POST-only button): not a refusal.
            if access.kind != "undeclared" and response.status_code != 405:
                assert not is_refusal(response), (method, url, role, response.status_code)
        else:
            assert is_refusal(response), (method, url, role, response.status_code)
            assert fingerprint() == before, f"{role} {method} {url} changed data"


# -- the admin --------------------------------------------------------------------------
ADMIN_ROLES = ["anonymous", "member", "view_staff", "superuser"]


def registry():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _some_pk(model):
    return model._default_manager.order_by("pk").values_list("pk", flat=True).first()


@pytest.mark.parametrize(
    ("model", "model_admin"), registry(), ids=lambda x: getattr(x, "_meta", None) and x._meta.label
)
@pytest.mark.parametrize("role", ADMIN_ROLES)
def test_admin_views_and_actions(model, model_admin, role):
    rf = RequestFactory()
    VerifiedUserFactory()  # a row to select for the user admin's actions
    user = make_user(role)
    superuser = make_user("superuser")
    client = client_for(user)
    info = (model._meta.app_label, model._meta.model_name)
    changelist = f"/admin/{info[0]}/{info[1]}/"

    response = client.get(changelist)
    STATS[response.status_code] += 1
    assert response.status_code < 500
    if role in ("anonymous", "member"):
        assert is_refusal(response)
    else:
        assert response.status_code == 200

    request = rf.get(changelist)
    request.user = superuser
    all_actions = model_admin.get_actions(request)
    for name in all_actions:
        func = all_actions[name][0]
        # An action never needs just "view" (one that declares nothing needs "change":
        # bookshare/core/admin_site.py).
        permissions = set(getattr(func, "allowed_permissions", ("change",)) or ())
        assert permissions and permissions != {"view"}, f"{model_admin}.{name}"
        if user is not None:
            request.user = user
            offered = name in model_admin.get_actions(request)
            if role == "superuser":
                assert offered
            else:
                assert not offered, f"{role} is offered {model._meta.label}.{name}"
        if role == "superuser":
            continue
        pk = _some_pk(model)
        before = fingerprint()
        response = client.post(
            changelist, {"action": name, "_selected_action": [pk] if pk is not None else []}
        )
        STATS[response.status_code] += 1
        assert response.status_code < 500
        assert fingerprint() == before, f"{role} ran {model._meta.label}.{name}"

    # Adding through the admin: only with the add permission.
    if model_admin.has_add_permission(_req(rf, superuser)) and role != "superuser":
        before = fingerprint()
        response = client.post(f"{changelist}add/", {})
        STATS[response.status_code] += 1
        assert is_refusal(response)
        assert fingerprint() == before


def _req(rf, user):
    request = rf.get("/admin/")
    request.user = user
    return request


def test_report_matrix_counts(capsys):
    """Runs last in this module: prints how many requests the matrix sent and what came
    back (the issue's closing note quotes it)."""
    if STATS:
        with capsys.disabled():
            total = sum(STATS.values())
            print(
                f"\nauthorization matrix: {total} requests, statuses {dict(sorted(STATS.items()))}"
            )
    assert all(code < 500 for code in STATS)
