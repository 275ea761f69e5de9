"""Through the web forms: every role at every state, allowed and refused."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from accounts.tests.factories import PASSWORD  # noqa: F401  (factories share it)
from books.models import BookPost
from books.tests.factories import BookPostFactory, UserFactory
from exchanges import services
from exchanges.models import CopyRequest, RequestMessage

pytestmark = pytest.mark.django_db
State = CopyRequest.State

ROLES = ["anonymous", "unverified", "requester", "owner", "other", "staff"]
STATES = ["open", "accepted", "handed_over", "on_loan", "received", "declined", "cancelled"]
# action → (who may, from which state, resulting state)
ALLOWED = {
    "accept": ("owner", "open", "accepted"),
    "decline": ("owner", "open", "declined"),
    "cancel": ("requester", ("open", "accepted"), "cancelled"),
    "hand-over": ("owner", "accepted", "handed_over"),
    "received": ("requester", "handed_over", None),  # received (gift) or on_loan (loan)
    "returned": ("owner", "on_loan", "returned"),
}


def request_in(state: str) -> CopyRequest:
    """A request brought to `state` through the services, as the site would."""
    offer = BookPost.Offer.GIVE if state == "received" else BookPost.Offer.LEND
    post = BookPostFactory(offer=offer)
    req = services.request_create(requester=UserFactory(), post=post, message="Please?")
    owner, requester = post.owner, req.requester
    steps = {
        "open": [],
        "declined": [lambda: services.request_decline(actor=owner, request_id=req.pk)],
        "cancelled": [lambda: services.request_cancel(actor=requester, request_id=req.pk)],
        "accepted": [lambda: services.request_accept(actor=owner, request_id=req.pk)],
    }
    steps["handed_over"] = steps["accepted"] + [
        lambda: services.request_hand_over(actor=owner, request_id=req.pk)
    ]
    steps["on_loan"] = steps["handed_over"] + [
        lambda: services.request_confirm_received(actor=requester, request_id=req.pk)
    ]
    steps["received"] = steps["on_loan"]
    for step in steps[state]:
        step()
    req.refresh_from_db()
    assert req.state == state
    return req


def sign_in(client, role: str, req: CopyRequest):
    user = {
        "anonymous": None,
        "unverified": lambda: UserFactory(unverified=True),
        "requester": lambda: req.requester,
        "owner": lambda: req.owner,
        "other": lambda: UserFactory(),
        "staff": lambda: UserFactory(is_staff=True),
    }[role]
    if user is not None:
        client.force_login(user())


def assert_refused_with_redirect(response, role, req):
    if role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif role == "unverified":
        assert response.status_code == 302 and "/accounts/verify/" in response["Location"]
    elif role == "other":
        assert response.status_code == 404
    else:
        assert response.status_code == 302 and response["Location"] == req.get_absolute_url()
        errors = [m for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
        assert errors, "a refused transition explains itself"


@pytest.mark.parametrize("action", list(ALLOWED))
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_transition_by_role_and_state(client, role, state, action):
    req = request_in(state)
    sign_in(client, role, req)
    response = client.post(f"/requests/{req.pk}/{action}/", {"reason": "Sorry"})
    who, from_states, result = ALLOWED[action]
    from_states = (from_states,) if isinstance(from_states, str) else from_states
    before = state
    req.refresh_from_db()
    if role == who and state in from_states:
        assert response.status_code == 302 and response["Location"] == req.get_absolute_url()
        expected = result or ("on_loan" if req.offer == "lend" else "received")
        assert req.state == expected
    else:
        assert_refused_with_redirect(response, role, req)
        assert req.state == before


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_request_page_and_thread_by_role(client, role, state):
    req = request_in(state)
    RequestMessage.objects.create(request=req, author=req.requester, body="<script>x</script>")
    sign_in(client, role, req)
    page = client.get(f"/requests/{req.pk}/")
    post = client.post(f"/requests/{req.pk}/message/", {"body": "See you at noon"})
    if role in ("requester", "owner"):
        assert page.status_code == 200
        assert b"&lt;script&gt;x&lt;/script&gt;" in page.content
        assert b"<script>x</script>" not in page.content
        assert post.status_code == 302
        assert req.messages.filter(body="See you at noon").exists()
    elif role == "staff":
        assert page.status_code == 200 and b"&lt;script&gt;" in page.content
        assert post.status_code == 302
        assert not req.messages.filter(body="See you at noon").exists()
    else:
        assert_refused_with_redirect(page, role, req)
        assert not req.messages.filter(body="See you at noon").exists()


def test_empty_message_is_a_form_error_not_a_500(client):
    req = request_in("open")
    client.force_login(req.requester)
    response = client.post(f"/requests/{req.pk}/message/", {"body": "   "})
    assert response.status_code == 400
    assert b"This field is required" in response.content


def test_allowed_actions_are_shown_to_the_right_member(client):
    req = request_in("open")
    client.force_login(req.owner)
    page = client.get(req.get_absolute_url()).content.decode()
    assert "/accept/" in page and "/decline/" in page and "/cancel/" not in page
    client.force_login(req.requester)
    page = client.get(req.get_absolute_url()).content.decode()
    assert "/cancel/" in page and "/accept/" not in page


# -- asking from the post page ---------------------------------------------------------------
@pytest.mark.parametrize("role", ["anonymous", "unverified", "owner", "other"])
def test_post_page_panel_and_request_form(client, role):
    post = BookPostFactory()
    user = {
        "anonymous": None,
        "unverified": UserFactory(unverified=True),
        "owner": post.owner,
        "other": UserFactory(),
    }[role]
    if user:
        client.force_login(user)
    page = client.get(post.get_absolute_url()).content.decode()
    response = client.post(f"/posts/{post.pk}/request/", {"message": "Hello <i>there</i>"})
    if role == "other":
        assert f'action="/posts/{post.pk}/request/"' in page
        req = CopyRequest.objects.get()
        assert response["Location"] == req.get_absolute_url()
        assert req.message == "Hello <i>there</i>" and req.requester == user
        # a second click on a stale page: a message, no second request
        again = client.post(f"/posts/{post.pk}/request/", {"message": "again"})
        assert again.status_code == 302 and CopyRequest.objects.count() == 1
        messages = [str(m) for m in get_messages(again.wsgi_request)]
        assert any("already asked" in m for m in messages)
        assert "You asked for this copy" in client.get(post.get_absolute_url()).content.decode()
    else:
        assert response.status_code == 302
        assert not CopyRequest.objects.exists()
        if role == "owner":
            assert "No open requests" in page
            assert any("your own post" in str(m) for m in get_messages(response.wsgi_request))
        elif role == "anonymous":
            assert "Sign in</a> to ask" in page


def test_request_on_reserved_post_from_a_stale_page(client):
    post = BookPostFactory(status=BookPost.Status.RESERVED)
    client.force_login(UserFactory())
    response = client.post(f"/posts/{post.pk}/request/", {})
    assert response.status_code == 302
    assert any("reserved" in str(m) for m in get_messages(response.wsgi_request))
    assert not CopyRequest.objects.exists()


def test_swap_form_offers_only_own_available_posts(client):
    post = BookPostFactory(offer=BookPost.Offer.SWAP)
    me = UserFactory()
    mine = BookPostFactory(owner=me)
    theirs = BookPostFactory()
    client.force_login(me)
    page = client.get(post.get_absolute_url()).content.decode()
    assert f'value="{mine.pk}"' in page and f'value="{theirs.pk}"' not in page
    bad = client.post(f"/posts/{post.pk}/request/", {"offered_post": theirs.pk})
    assert bad.status_code == 200 and not CopyRequest.objects.exists()  # invalid choice
    client.post(f"/posts/{post.pk}/request/", {"offered_post": mine.pk})
    assert CopyRequest.objects.get().offered_post == mine


def test_owner_requests_page_accept_declines_the_rest(client):
    post = BookPostFactory()
    reqs = [services.request_create(requester=UserFactory(), post=post) for _ in range(3)]
    client.force_login(UserFactory())
    assert client.get(f"/posts/{post.pk}/requests/").status_code == 404
    client.force_login(post.owner)
    page = client.get(f"/posts/{post.pk}/requests/").content.decode()
    assert page.count("/accept/") == 3
    response = client.post(f"/requests/{reqs[1].pk}/accept/", {"next": "post"})
    assert response["Location"] == f"/posts/{post.pk}/requests/"
    states = [CopyRequest.objects.get(pk=r.pk).state for r in reqs]
    assert states == ["declined", "accepted", "declined"]
    # the stale page's accept button for another request
    stale = client.post(f"/requests/{reqs[0].pk}/accept/", {"next": "post"})
    assert any("declined now" in str(m) for m in get_messages(stale.wsgi_request))


def test_hand_over_with_bad_due_date_keeps_state(client):
    req = request_in("accepted")
    client.force_login(req.owner)
    past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = client.post(f"/requests/{req.pk}/hand-over/", {"due_date": past})
    assert any("future" in str(m) for m in get_messages(response.wsgi_request))
    req.refresh_from_db()
    assert req.state == "accepted"
    client.post(f"/requests/{req.pk}/hand-over/", {"due_date": "not a date"})
    req.refresh_from_db()
    assert req.state == "accepted"


def test_unknown_action_is_404(client):
    req = request_in("open")
    client.force_login(req.owner)
    assert client.post(f"/requests/{req.pk}/explode/").status_code == 404
    assert client.get(f"/requests/{req.pk}/accept/").status_code == 405


def test_my_requests_and_requests_for_my_books(client):
    mine = request_in("open")
    other = request_in("open")
    client.force_login(mine.requester)
    page = client.get("/requests/mine/").content.decode()
    assert mine.book.title in page and other.book.title not in page
    client.force_login(mine.owner)
    page = client.get("/requests/incoming/").content.decode()
    assert mine.book.title in page and other.book.title not in page
    client.logout()
    assert client.get("/requests/mine/").status_code == 302


def test_profile_counts_given_lent_received(client):
    gift = request_in("received")
    loan = request_in("on_loan")
    page = client.get(gift.owner.get_absolute_url()).content.decode()
    assert "Books given: <strong>1</strong>" in page
    page = client.get(loan.owner.get_absolute_url()).content.decode()
    assert "lent: <strong>1</strong>" in page
    page = client.get(loan.requester.get_absolute_url()).content.decode()
    assert "received: <strong>1</strong>" in page
