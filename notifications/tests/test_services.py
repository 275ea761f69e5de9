"""Routing, creation, grouping, idempotency, preferences, digest and unsubscribe."""

import uuid

import pytest
from django.core import mail
from django.db import transaction

from books.tests.factories import BookPostFactory, UserFactory
from exchanges import events as ex
from notifications import services
from notifications.models import (
    DigestSent,
    EmailSent,
    Kind,
    Notification,
    Preference,
)
from notifications.routing import Target, route
from reactions.events import PostLiked

pytestmark = pytest.mark.django_db


def liked(post, user):
    return PostLiked(
        like_id=1,
        post_id=post.pk,
        book_id=post.book_id,
        user_id=user.pk,
        post_owner_id=post.owner_id,
    )


def test_route_never_targets_the_actor():
    post = BookPostFactory()
    assert route(liked(post, post.owner)) == []
    message = ex.RequestMessagePosted(
        message_id=1, request_id=1, post_id=post.pk, author_id=5, recipient_id=7
    )
    (target,) = route(message)
    assert target.recipient_id == 7 and target.kind == Kind.REQUEST_MESSAGE


def test_notify_is_idempotent_per_event_and_recipient():
    post = BookPostFactory()
    target = Target(
        recipient_id=post.owner_id,
        kind=Kind.COPY_REQUESTED,
        actor_id=UserFactory().pk,
        book_id=post.book_id,
        post_id=post.pk,
    )
    event_id = uuid.uuid4()
    assert services.notify(event_id=event_id, targets=[target]) == 1
    assert services.notify(event_id=event_id, targets=[target]) == 0
    (row,) = Notification.objects.all()
    assert row.title == post.book.title and row.target_url() == post.get_absolute_url()


def test_inactive_members_and_missing_objects():
    post = BookPostFactory()
    gone = UserFactory(is_active=False)
    targets = [
        Target(recipient_id=gone.pk, kind=Kind.COPY_REQUESTED, actor_id=None),
        Target(
            recipient_id=post.owner_id,
            kind=Kind.REQUEST_ACCEPTED,
            actor_id=None,
            book_id=post.book_id,
            post_id=987654,
            request_id=876543,
        ),
    ]
    services.notify(event_id=uuid.uuid4(), targets=targets)
    (row,) = Notification.objects.all()
    assert row.recipient_id == post.owner_id
    assert row.post_id is None and row.request_id is None and row.target_url() == ""


def test_likes_group_into_one_row_until_read():
    post = BookPostFactory()
    fans = UserFactory.create_batch(4)
    ids = [uuid.uuid4() for _ in fans]
    for fan, event_id in zip(fans[:3], ids, strict=False):
        services.notify(event_id=event_id, targets=route(liked(post, fan)))
    services.notify(event_id=ids[1], targets=route(liked(post, fans[1])))  # a repeat
    services.notify(event_id=uuid.uuid4(), targets=route(liked(post, fans[0])))  # again
    (row,) = Notification.objects.all()
    assert row.actor_count == 3 and row.actor == fans[2] and row.others == 2
    services.notification_mark_read(user=post.owner, pk=row.pk)
    services.notify(event_id=ids[3], targets=route(liked(post, fans[3])))
    assert Notification.objects.count() == 2
    newest = Notification.objects.order_by("-id").first()
    assert newest.actor_count == 1 and newest.read_at is None


def test_a_removed_post_leaves_a_readable_notification(client):
    post = BookPostFactory()
    services.notify(event_id=uuid.uuid4(), targets=route(liked(post, UserFactory())))
    title = post.book.title
    with transaction.atomic():
        post.delete()
    row = Notification.objects.get()
    assert row.post_id is None and row.target_url() == ""
    client.force_login(row.recipient)
    page = client.get("/notifications/").content.decode()
    assert title in page and "no longer on the site" in page


def test_email_now_respects_preferences_and_sends_once():
    post = BookPostFactory()
    asker = UserFactory()
    event = ex.CopyRequested(
        request_id=1,
        post_id=post.pk,
        book_id=post.book_id,
        requester_id=asker.pk,
        owner_id=post.owner_id,
        offer="give",
    )
    event_id = uuid.uuid4()
    assert services.email_now(event_id=event_id, targets=route(event)) == 1
    assert services.email_now(event_id=event_id, targets=route(event)) == 0
    (message,) = mail.outbox
    assert message.to == [post.owner.email]
    assert f"{asker.username} asked for your copy of “{post.book.title}”" in message.subject
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/notifications/unsubscribe/" in message.body
    services.preference_set(user=post.owner, kind=Kind.COPY_REQUESTED, delivery="site")
    assert services.email_now(event_id=uuid.uuid4(), targets=route(event)) == 0
    assert EmailSent.objects.count() == 1


def test_digest_gathers_digest_kinds_once_a_day():
    member = UserFactory()
    post = BookPostFactory(owner=member)
    services.preference_set(user=member, kind=Kind.POST_LIKED, delivery="digest")
    for fan in UserFactory.create_batch(2):
        services.notify(event_id=uuid.uuid4(), targets=route(liked(post, fan)))
    # an immediate kind is not in the digest
    services.notify(
        event_id=uuid.uuid4(),
        targets=[
            Target(
                recipient_id=member.pk,
                kind=Kind.COPY_REQUESTED,
                actor_id=None,
                book_id=post.book_id,
            )
        ],
    )
    assert services.digest_send_all() == 1
    assert services.digest_send_all() == 0  # the same day again
    (message,) = mail.outbox
    assert message.to == [member.email]
    assert "and 1 other liked your post" in message.body
    assert "asked for your copy" not in message.body
    assert DigestSent.objects.get().items == 1


def test_unsubscribe_token_round_trip_and_tampering():
    token = services.unsubscribe_token(user_id=5, kind=Kind.POST_LIKED)
    assert services.unsubscribe_read(token) == (5, "post_liked")
    assert services.unsubscribe_read(token[:-2] + "xx") is None
    assert services.unsubscribe_read("nonsense") is None


def test_unsubscribe_page_get_confirms_post_unsubscribes_without_sign_in(client):
    member = UserFactory()
    token = services.unsubscribe_token(user_id=member.pk, kind=Kind.COPY_REQUESTED)
    url = f"/notifications/unsubscribe/{token}/"
    page = client.get(url)
    assert page.status_code == 200 and b"Yes, stop these emails" in page.content
    assert not Preference.objects.exists()  # a link scanner's GET changes nothing
    # RFC 8058 one-click: a mail client POSTs without a CSRF token or session
    csrf_client = client.__class__(enforce_csrf_checks=True)
    done = csrf_client.post(url, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert Preference.objects.get(user=member).delivery == "site"
    assert csrf_client.post(url).status_code == 200  # twice is fine
    assert client.get("/notifications/unsubscribe/forged/").status_code == 404


def test_unsubscribe_all_from_a_digest():
    member = UserFactory()
    services.unsubscribe(user_id=member.pk, kind="all")
    assert set(services.preferences_for(user=member).values()) == {"site"}


def test_digest_is_a_beat_task_on_the_mail_queue():
    from django.conf import settings

    from notifications.tasks import send_digests

    entry = settings.CELERY_BEAT_SCHEDULE["notifications-daily-digest"]
    assert entry["task"] == send_digests.name
    assert settings.CELERY_TASK_ROUTES[send_digests.name] == {"queue": "mail"}
    assert "mail" in settings.EVENTBUS_WORKERS["mail"]["queues"]
