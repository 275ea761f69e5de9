"""Fuzz test: every URL in the URL conf and every field of every form on those pages,
with Hypothesis-made values. Asserts no 5xx. Forms are found by reading each page's HTML
(bookshare/testing/routes.py), so a new view or field is fuzzed without any change here.

Bounded: FUZZ_EXAMPLES examples per route (env, default 8; the admin gets half) keep the
module under ~60 s on the CI machine.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import VerifiedUserFactory
from bookshare.testing.routes import all_routes, forms_in

from .access import access_for

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
STATS: Counter = Counter()
ROUTES = all_routes()

ODD = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "9" * 40,
    "-1",
    "0",
    "1e309",
    "NaN",
    "978\u00b9\u00b2\u00b34567890",
    "\u0663\u0664\u0665",  # Arabic-Indic digits
    "x" * 5000,
    "💥" * 50,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "%00",
    "\ud7ff",
    "javascript:alert(1)",
    "2026-13-45",
]
text = st.one_of(st.sampled_from(ODD), st.text(max_size=60))
ints = st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.sampled_from([0, 1, 2]))

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
    # No shrinking: a failure is reported with the example as found, within the time
    # budget (shrinking a web request sequence can take minutes).
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


def _send(client, method, url, data=None, **extra):
    response = (
        client.get(url, data, **extra) if method == "GET" else client.post(url, data or {}, **extra)
    )
    STATS[response.status_code] += 1
    return response


def _value(draw, field):
    choices = [c for c in field["choices"] if c is not None]
    if choices and draw(st.booleans()):
        return draw(st.sampled_from(choices))
    return draw(text)


@pytest.fixture
def owner():
    return VerifiedUserFactory()


def _client(route, owner):
    access = access_for(route.name)
    client = Client()
    if access.kind not in ("open",):
        client.force_login(owner)
    return client


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_fuzz_route(route, owner):
    access = access_for(route.name)
    good_kwargs = access.kwargs(owner) if access.kwargs else None

    @FUZZ_SETTINGS
    @given(data=st.data())
    def run(data):
        draw = data.draw
        client = _client(route, owner)
        # 1. The URL itself: converters filled with fuzz (or the declared good values).
        kwargs = {}
        for name, conv in route.converters.items():
            if good_kwargs and draw(st.booleans()):
                kwargs[name] = good_kwargs[name]
            elif conv == "IntConverter":
                kwargs[name] = abs(draw(ints))
            else:
                kwargs[name] = draw(text.filter(lambda s: s and "/" not in s)) or "x"
        url = route.url(kwargs)
        query = {draw(st.sampled_from(["q", "page", "next", "sort", "genre", "x"])): draw(text)}
        query = {k: v.replace("\x00", "") for k, v in query.items()}
        response = _send(client, "GET", url, query)
        assert response.status_code < 500, (url, query)
        # 2. Every form on the page (as rendered with good URL values), fuzzed.
        page_url = route.url(good_kwargs) if good_kwargs else url
        page = _send(client, "GET", page_url)
        assert page.status_code < 500
        if page.status_code != 200 or "html" not in page.get("Content-Type", ""):
            return
        for form in forms_in(page.content.decode("utf-8", "replace")):
            target = form["action"] or page_url
            if not target.startswith("/"):
                continue
            values = {
                name: _value(draw, field)
                for name, field in form["fields"].items()
                if name != "csrfmiddlewaretoken"
            }
            if form["method"] == "get":
                values = {k: v.replace("\x00", "") for k, v in values.items()}
            response = _send(client, form["method"].upper(), target, values)
            assert response.status_code < 500, (form["method"], target, values)

    run()


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_every_post_endpoint_answers_400_to_a_utf16_form(route, owner):
    """Issue 13, item 10: a form posted as charset=utf-16 answered 500."""
    access = access_for(route.name)
    kwargs = (
        access.kwargs(owner)
        if access.kwargs
        else {n: 1 if c == "IntConverter" else "x" for n, c in route.converters.items()}
    )
    client = _client(route, owner)
    response = _send(
        client,
        "POST",
        route.url(kwargs),
        "a=b&c=%FF%FE",
        content_type="application/x-www-form-urlencoded; charset=utf-16",
    )
    assert response.status_code == 400


# -- the admin: every registered model's list filters, search, ordering and forms -------
def _admin_registry():
    from django.contrib import admin

    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _filter_params(model, model_admin) -> list[str]:
    """Query parameters the changelist understands: each list_filter's (with lookups),
    the date hierarchy's, search, ordering, page, plus the model's own fields."""
    params = ["q", "o", "p", "e", "all", "_to_field", "_popup"]
    for item in model_admin.list_filter:
        if isinstance(item, str):
            params += [f"{item}__exact", f"{item}__gte", f"{item}__lt", f"{item}__isnull"]
        elif isinstance(item, tuple | list):
            params.append(f"{item[0]}__exact")
        else:
            params.append(getattr(item, "parameter_name", "x"))
    if model_admin.date_hierarchy:
        params += [f"{model_admin.date_hierarchy}__{p}" for p in ("year", "month", "day")]
    params += [f"{f.name}__exact" for f in model._meta.concrete_fields][:12]
    return params


@pytest.fixture
def superuser():
    return VerifiedUserFactory(is_staff=True, is_superuser=True)


@pytest.mark.parametrize(
    ("model", "model_admin"),
    _admin_registry(),
    ids=lambda x: getattr(x, "_meta", None) and x._meta.label,
)
def test_fuzz_admin(model, model_admin, superuser):
    admin_settings = settings(FUZZ_SETTINGS, max_examples=max(2, EXAMPLES // 2))
    client = Client()
    client.force_login(superuser)
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    params = _filter_params(model, model_admin)

    @admin_settings
    @given(data=st.data())
    def run(data):
        draw = data.draw
        query = {
            name: draw(st.one_of(text, ints.map(str)))
            for name in draw(st.lists(st.sampled_from(params), min_size=1, max_size=3))
        }
        response = _send(client, "GET", base, query)
        assert response.status_code < 500, (base, query)
        selected = draw(st.lists(st.one_of(text, ints.map(str)), min_size=1, max_size=2))
        actions = list(model_admin.get_actions(_admin_request(superuser)))
        if actions:
            response = _send(
                client,
                "POST",
                base,
                {"action": draw(st.sampled_from(actions)), "_selected_action": selected},
            )
            assert response.status_code < 500, (base, selected)

    run()
    # The add form, if any, fuzzed field by field.
    add = client.get(f"{base}add/")
    STATS[add.status_code] += 1
    if add.status_code == 200:

        @admin_settings
        @given(data=st.data())
        def post_add(data):
            for form in forms_in(add.content.decode("utf-8", "replace")):
                if form["method"] != "post":
                    continue
                values = {
                    name: _value(data.draw, field)
                    for name, field in form["fields"].items()
                    if name != "csrfmiddlewaretoken"
                }
                response = _send(client, "POST", f"{base}add/", values)
                assert response.status_code < 500, values

        post_add()


def _admin_request(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_report_fuzz_counts(capsys):
    if STATS:
        with capsys.disabled():
            total = sum(STATS.values())
            print(f"\nfuzz: {total} requests, statuses {dict(sorted(STATS.items()))}")
    assert all(code < 500 for code in STATS)
