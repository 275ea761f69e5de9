"""Regression tests for the security sweep (issue 13). Each failed before its fix; the
docstring says how. Uploads and catalogue integrity (items 8, 9) are tested elsewhere."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client, RequestFactory

from accounts.tests.factories import PASSWORD, UserFactory, VerifiedUserFactory
from bookshare.eventbus.models import Delivery, StoredEvent

pytestmark = pytest.mark.django_db

SUPER_PASSWORD = "a-superuser-passphrase-77"


@pytest.fixture
def deliver_email_queue():
    from bookshare.eventbus.delivery import run_delivery

    def run():
        pending = Delivery.objects.filter(queue="email", status__in=Delivery.UNFINISHED)
        for pk in pending.order_by("id").values_list("pk", flat=True):
            run_delivery(pk)

    return run


@pytest.fixture
def superuser():
    user = VerifiedUserFactory(username="boss", is_staff=True, is_superuser=True)
    user.set_password(SUPER_PASSWORD)
    user.save()
    return user


def view_only_staff():
    user = VerifiedUserFactory(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# -- item 1: the admin's sign-in form is limited -------------------------------------------
def test_admin_login_is_limited_per_address_and_the_right_password_then_fails(superuser):
    """Before: 40 wrong passwords from one address were all processed, then the right
    one signed in."""
    client = Client()
    statuses = [
        client.post("/admin/login/", {"username": "boss", "password": f"wrong{i}"}).status_code
        for i in range(40)
    ]
    assert 429 in statuses
    assert statuses.count(200) <= 20
    response = client.post("/admin/login/", {"username": "boss", "password": SUPER_PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


# -- item 2: per-account lockout, site form and admin alike --------------------------------
def test_failures_from_many_addresses_lock_the_account(settings):
    """Before: 5 addresses x 20 wrong passwords for one member were all processed, then
    the right password worked."""
    member = VerifiedUserFactory()
    for i in range(settings.AXES_FAILURE_LIMIT):
        Client(REMOTE_ADDR=f"198.51.100.{i}").post(
            "/accounts/login/", {"username": member.email, "password": "wrong"}
        )
    client = Client(REMOTE_ADDR="203.0.113.9")
    response = client.post("/accounts/login/", {"username": member.username, "password": PASSWORD})
    assert response.status_code == 429
    assert b"Sign-in paused" in response.content
    assert "_auth_user_id" not in client.session
    # The admin form refuses the same account, from yet another address.
    admin = Client(REMOTE_ADDR="203.0.113.10")
    admin.post("/admin/login/", {"username": member.username, "password": PASSWORD})
    assert "_auth_user_id" not in admin.session


def test_a_password_reset_lets_the_owner_back_in(settings, deliver_email_queue, mailoutbox):
    member = VerifiedUserFactory()
    for i in range(settings.AXES_FAILURE_LIMIT):
        Client(REMOTE_ADDR=f"198.51.100.{i}").post(
            "/accounts/login/", {"username": member.username, "password": "wrong"}
        )
    owner = Client(REMOTE_ADDR="192.0.2.1")
    owner.post("/accounts/password/reset/", {"email": member.email})
    deliver_email_queue()
    link = next(w for w in mailoutbox[-1].body.split() if "/accounts/password/reset/" in w)
    page = owner.get(link.replace(settings.SITE_URL, ""), follow=True)
    new = "a-brand-new-passphrase-31"
    owner.post(page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    response = owner.post("/accounts/login/", {"username": member.username, "password": new})
    assert response.status_code == 302
    assert owner.session["_auth_user_id"] == str(member.pk)


def test_the_password_change_forms_old_password_check_counts_and_locks(settings):
    """Before: the old-password field could be guessed without limit by a session."""
    member = VerifiedUserFactory()
    client = signed_in(member)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/accounts/password/change/",
            {"old_password": "wrong", "new_password1": "x", "new_password2": "x"},
        )
    new = "another-new-passphrase-58"
    response = client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 200
    assert b"changing the password is paused" in response.content
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


# -- item 3: superscript digits ------------------------------------------------------------
SUPERSCRIPT_ISBN = "978\u00b9\u00b2\u00b34567890"


def test_superscript_digits_in_search_are_no_isbn():
    """Before: GET /search/?q=978¹²³4567890 answered 500 (ValueError in int())."""
    assert Client().get("/search/", {"q": SUPERSCRIPT_ISBN}).status_code == 200


def test_superscript_digits_on_the_post_form_are_a_clear_error():
    client = signed_in(VerifiedUserFactory())
    response = client.post("/posts/new/", {"isbn": SUPERSCRIPT_ISBN, "offer": "give"})
    assert response.status_code == 200
    assert b"ISBN" in response.content


def test_superscript_digits_in_the_admin_delivery_search(superuser):
    client = signed_in(superuser)
    response = client.get("/admin/eventbus/delivery/", {"q": "\u00b9\u00b2\u00b3"})
    assert response.status_code == 200
    assert client.get("/admin/eventbus/delivery/", {"q": "9" * 40}).status_code == 200


# -- item 4: view-only staff cannot act -----------------------------------------------------
@pytest.fixture
def a_delivery():
    from accounts.events import PasswordResetRequested
    from bookshare.testing import publish_committed

    member = VerifiedUserFactory()
    publish_committed(PasswordResetRequested(user_id=member.pk))
    delivery = Delivery.objects.get(event__type="PasswordResetRequested")
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.DEAD)
    return delivery


@pytest.mark.parametrize(
    ("url", "action", "target"),
    [
        ("/admin/eventbus/delivery/", "replay_selected", "delivery"),
        ("/admin/eventbus/storedevent/", "replay_all_deliveries", "event"),
    ],
)
def test_view_only_staff_cannot_replay(a_delivery, url, action, target):
    """Before: a staff account with only view permissions replayed deliveries and events."""
    client = signed_in(view_only_staff())
    pk = a_delivery.pk if target == "delivery" else a_delivery.event_id
    response = client.post(url, {"action": action, "_selected_action": [pk]})
    assert response.status_code in (200, 302, 403)
    assert Delivery.objects.get(pk=a_delivery.pk).status == Delivery.Status.DEAD
    listing = client.get(url)
    assert action.encode() not in listing.content


def test_staff_with_the_change_permission_can_replay(a_delivery):
    staff = view_only_staff()
    staff.user_permissions.add(Permission.objects.get(codename="change_delivery"))
    client = signed_in(staff)
    client.post(
        "/admin/eventbus/delivery/",
        {"action": "replay_selected", "_selected_action": [a_delivery.pk]},
    )
    assert Delivery.objects.get(pk=a_delivery.pk).status != Delivery.Status.DEAD


def test_view_only_staff_cannot_send_codes():
    """Before: view-only staff sent five verification codes in seconds."""
    member = UserFactory()
    before = StoredEvent.objects.filter(type="VerificationCodeRequested").count()
    client = signed_in(view_only_staff())
    for _ in range(5):
        client.post(
            "/admin/accounts/user/",
            {"action": "send_verification_code", "_selected_action": [member.pk]},
        )
    assert StoredEvent.objects.filter(type="VerificationCodeRequested").count() == before


# -- item 5: sign-up rate alert -------------------------------------------------------------
def test_a_sign_up_flood_alerts_staff_once(settings, mailoutbox, caplog):
    """Before: no overall sign-up limit or alert existed."""
    from accounts.services import signup_rate_check

    settings.ACCOUNTS_SIGNUP_ALERT_PER_HOUR = 3
    settings.ADMINS = [("Ops", "ops@example.org")]
    UserFactory.create_batch(3)
    signup_rate_check()
    assert mailoutbox == []
    UserFactory()
    signup_rate_check()
    signup_rate_check()
    alerts = [m for m in mailoutbox if m.to == ["ops@example.org"]]
    assert len(alerts) == 1
    assert "4 accounts" in alerts[0].body
    assert any(r.levelname == "ERROR" and "sign-up rate" in r.message for r in caplog.records)


# -- item 7: CSP and Permissions-Policy -----------------------------------------------------
def test_pages_send_a_strict_csp_and_a_permissions_policy():
    """Before: no Content-Security-Policy and no Permissions-Policy header anywhere."""
    response = Client().get("/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "camera=()" in response["Permissions-Policy"]


def test_no_template_has_inline_script_or_event_handler_attributes():
    """CSP forbids inline script: every template's scripts are files under static/."""
    import re
    from pathlib import Path

    from django.conf import settings

    root = Path(settings.BASE_DIR)
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
    handler = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
    javascript_url = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I)
    offenders = []
    for path in root.rglob("templates/**/*.html"):
        if ".venv" in path.parts or "node_modules" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in (inline_script, handler, javascript_url):
            if pattern.search(text):
                offenders.append(f"{path.relative_to(root)}: {pattern.pattern}")
    assert offenders == []


# -- item 10: odd requests ------------------------------------------------------------------
def test_a_form_posted_as_utf16_is_a_400():
    """Before: `Content-Type: application/x-www-form-urlencoded; charset=utf-16` → 500.
    (Every POST endpoint is covered by test_fuzz.py.)"""
    response = Client().post(
        "/accounts/login/",
        "username=a&password=b",
        content_type="application/x-www-form-urlencoded; charset=utf-16",
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        {"status": "\x00"},
        {"id__exact": "\x00"},
        {"q": "a\x00b"},
        {"id__exact": "9" * 40},
        {"attempts__gte": "9" * 40},
        {"created_at__year": "9" * 30},
        {"created_at__year": "2026", "created_at__month": "99999999999999999999"},
        {"event__id__exact": "not-a-uuid"},
    ],
)
def test_odd_admin_filters_are_4xx_not_500(superuser, query):
    """Before: NUL bytes and huge numbers in admin filters answered 500 on PostgreSQL."""
    response = signed_in(superuser).get("/admin/eventbus/delivery/", query)
    assert response.status_code < 500


@pytest.mark.parametrize("selected", ["abc", "9" * 40, "\u00b9", "-1", "1.5"])
def test_non_numeric_selected_action_is_not_a_500(superuser, selected):
    """Before: a non-numeric `_selected_action` raised ValidationError → 500."""
    response = signed_in(superuser).post(
        "/admin/eventbus/delivery/", {"action": "replay_selected", "_selected_action": [selected]}
    )
    assert response.status_code < 500


def test_a_bad_forwarded_for_from_a_trusted_proxy_is_a_400(settings):
    """Before: `X-Forwarded-For: not-an-ip` with trusted proxies → 500 (the address went
    into an inet column)."""
    settings.ACCOUNTS_TRUSTED_PROXIES = ["127.0.0.1"]
    client = Client(HTTP_X_FORWARDED_FOR="not-an-ip")
    assert client.get("/").status_code == 400
    assert client.post("/accounts/login/", {"username": "a", "password": "b"}).status_code == 400


# -- item 11: X-Forwarded-For only from trusted proxies -------------------------------------
@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        # No trusted proxy: the header is ignored, whoever sends it.
        ("203.0.113.5", "1.2.3.4", "203.0.113.5"),
        # From the proxy: the last hop it added.
        ("10.0.0.1", "6.6.6.6, 203.0.113.5", "203.0.113.5"),
        # Two trusted proxies in a row are skipped.
        ("10.0.0.1", "6.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        # IPv6, bracketed and IPv4-mapped forms.
        ("10.0.0.1", "[2001:db8::1]", "2001:db8::1"),
        ("::ffff:10.0.0.1", "198.51.100.7", "198.51.100.7"),
        # Garbage further left than the client is never read.
        ("10.0.0.1", "not-an-ip, 203.0.113.5", "203.0.113.5"),
    ],
)
def test_forwarded_for_is_trusted_only_from_configured_proxies(
    settings, remote, forwarded, expected
):
    """Before: ACCOUNTS_TRUST_X_FORWARDED_FOR took the header from any client."""
    from bookshare.core.proxies import client_ip

    settings.ACCOUNTS_TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_a_client_cannot_pick_its_address_to_dodge_limits(settings):
    from bookshare.core.proxies import BadForwardedFor, client_ip

    settings.ACCOUNTS_TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="1.1.1.1")
    assert client_ip(request) == "198.51.100.9"
    bad = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="nope")
    with pytest.raises(BadForwardedFor):
        client_ip(bad)


# -- item 12: /ops/events/ needs a permission ----------------------------------------------
def test_ops_events_needs_the_view_delivery_permission():
    """Before: any staff account (no permissions) could read /ops/events/."""
    bare = VerifiedUserFactory(is_staff=True)
    assert signed_in(bare).get("/ops/events/").status_code == 403
    bare.user_permissions.add(Permission.objects.get(codename="view_delivery"))
    bare = type(bare).objects.get(pk=bare.pk)
    assert signed_in(bare).get("/ops/events/").status_code == 200
    assert Client().get("/ops/events/").status_code == 302


# -- found by the admin fuzz test -------------------------------------------------------
def test_adding_an_author_twice_in_the_admin_is_a_form_error(superuser):
    """Found by test_fuzz_admin: a second "Émile Zola" (same name key) was a 500
    (IntegrityError on books_author.name_key)."""
    from books.models import Author

    client = signed_in(superuser)
    client.post("/admin/books/author/add/", {"name": "Émile Zola"})
    response = client.post("/admin/books/author/add/", {"name": "emile zola"})
    assert response.status_code == 200
    assert b"already in the catalogue" in response.content
    assert Author.objects.count() == 1


def test_a_non_number_in_an_admin_autocomplete_field_is_a_form_error(superuser):
    """Found by test_fuzz_admin: "abc" as a book's author (an autocomplete select) → 500
    while re-rendering the refused form (the widget queried "abc" as an id)."""
    response = signed_in(superuser).post(
        "/admin/books/book/add/",
        {
            "title": "T",
            "language": "en",
            "credits-TOTAL_FORMS": "1",
            "credits-INITIAL_FORMS": "0",
            "credits-MIN_NUM_FORMS": "0",
            "credits-MAX_NUM_FORMS": "1000",
            "credits-0-author": "abc",
        },
    )
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content


def test_the_lockout_admins_clean_up_action_works(superuser):
    """Found by test_fuzz_admin: axes' "clean up expired attempts" action was a 500 from
    the admin (it read request attributes only its backend sets)."""
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.create(
        username="account:1", ip_address="203.0.113.1", failures_since_start=1
    )
    response = signed_in(superuser).post(
        "/admin/axes/accessattempt/",
        {"action": "cleanup_expired_attempts", "_selected_action": [attempt.pk]},
    )
    assert response.status_code == 302
