"""Write paths: notifications from routed events, marking read, preferences, emails.

`notify` runs inside the consumer's transaction (its writes commit with the delivery).

Emails are sent outside any transaction, so the SMTP conversation holds no row lock:
the mail consumer is `atomic=False` and each message goes out through the bus's
`call_once` under a key of its own (the delivery's key and the recipient; for a digest,
the member and the day), recorded before the send and completed after it. A failed send
leaves the key open and the delivery (or the next digest run) tries again; a repeated
delivery finds the key completed, or the `EmailSent` / `DigestSent` row, and sends
nothing. The key is also the message's Message-ID, so the rare repeat after a worker
died between the send and its record is recognisably the same message.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from books.models import Book, BookPost
from bookshare.core import cache
from bookshare.eventbus import TransactionRequired, idempotency
from exchanges.models import CopyRequest

from .models import (
    DEFAULT_DELIVERY,
    GROUPED_KINDS,
    Delivery,
    DigestSent,
    EmailSent,
    Kind,
    Notification,
    NotificationActor,
    Preference,
)
from .routing import Target
from .selectors import counts_key

log = logging.getLogger(__name__)
User = get_user_model()
BATCH = 500
UNSUBSCRIBE_SALT = "notifications.unsubscribe"


# -- counts -------------------------------------------------------------------------------
def counts_forget(user_ids: Iterable[int]) -> None:
    """Drop the members' cached counts once the current transaction commits (at once
    outside one), so the next page or bell poll counts the committed rows."""
    keys = [counts_key(uid) for uid in set(user_ids)]
    if keys:
        transaction.on_commit(lambda: cache.delete_many(keys))


# -- creating -----------------------------------------------------------------------------
def _existing_ids(model, ids: set[int]) -> set[int]:
    ids = {i for i in ids if i}
    if not ids:
        return set()
    return set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))


def _titles(targets: list[Target]) -> dict[int, str]:
    book_ids = {t.book_id for t in targets if t.book_id}
    return dict(Book.objects.filter(pk__in=book_ids).values_list("pk", "title"))


def _request_titles(targets: list[Target]) -> dict[int, str]:
    ids = {t.request_id for t in targets if t.request_id and not t.book_id}
    return dict(CopyRequest.objects.filter(pk__in=ids).values_list("pk", "book__title"))


def notify(*, event_id, targets: Iterable[Target]) -> int:
    """Create (or grow, for grouped kinds) each target's notification. Idempotent per
    (event, recipient); bounded: plain targets are written in batches of BATCH."""
    event_id = uuid.UUID(str(event_id))
    targets = list(targets)
    if not targets:
        return 0
    active = set(
        User.objects.filter(pk__in={t.recipient_id for t in targets}, is_active=True).values_list(
            "pk", flat=True
        )
    )
    targets = [t for t in targets if t.recipient_id in active]
    posts = _existing_ids(BookPost, {t.post_id for t in targets})
    requests = _existing_ids(CopyRequest, {t.request_id for t in targets})
    titles = _titles(targets)
    request_titles = _request_titles(targets)
    made = 0
    plain = [t for t in targets if t.kind not in GROUPED_KINDS]
    for start in range(0, len(plain), BATCH):
        batch = plain[start : start + BATCH]
        done = set(
            Notification.objects.filter(
                event_id=event_id, recipient_id__in=[t.recipient_id for t in batch]
            ).values_list("recipient_id", flat=True)
        )
        rows = [
            Notification(
                recipient_id=t.recipient_id,
                kind=t.kind,
                event_id=event_id,
                actor_id=t.actor_id,
                post_id=t.post_id if t.post_id in posts else None,
                request_id=t.request_id if t.request_id in requests else None,
                title=(titles.get(t.book_id) or request_titles.get(t.request_id) or "a book")[:300],
                detail=t.detail[:300],
            )
            for t in batch
            if t.recipient_id not in done
        ]
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        counts_forget(r.recipient_id for r in rows)
        made += len(rows)
    for t in targets:
        if t.kind in GROUPED_KINDS:
            made += _notify_grouped(
                event_id=event_id,
                target=t,
                post_id=t.post_id if t.post_id in posts else None,
                title=titles.get(t.book_id) or "your post",
            )
    return made


def _notify_grouped(*, event_id, target: Target, post_id, title: str) -> int:
    if NotificationActor.objects.filter(event_id=event_id).exists():
        return 0  # this event was already counted
    row = (
        Notification.objects.select_for_update()
        .filter(recipient_id=target.recipient_id, group_key=target.group_key, read_at=None)
        .first()
    )
    if row is None:
        row = Notification.objects.create(
            recipient_id=target.recipient_id,
            kind=target.kind,
            event_id=event_id,
            group_key=target.group_key,
            actor_id=target.actor_id,
            post_id=post_id,
            title=title[:300],
        )
        NotificationActor.objects.create(
            notification=row, actor_id=target.actor_id, event_id=event_id
        )
        counts_forget([target.recipient_id])
        return 1
    if NotificationActor.objects.filter(notification=row, actor_id=target.actor_id).exists():
        return 0  # the same member again (liked, unliked, liked): still one actor
    NotificationActor.objects.create(notification=row, actor_id=target.actor_id, event_id=event_id)
    row.actor_id = target.actor_id
    row.actor_count = row.actors.count()
    row.save(update_fields=["actor", "actor_count", "updated_at"])
    return 0


# -- reading ------------------------------------------------------------------------------
def notification_mark_read(*, user, pk: int) -> bool:
    marked = bool(
        Notification.objects.filter(pk=pk, recipient=user, read_at=None).update(
            read_at=timezone.now()
        )
    )
    if marked:
        counts_forget([user.pk])
    return marked


def notifications_mark_all_read(*, user) -> int:
    marked = Notification.objects.filter(recipient=user, read_at=None).update(
        read_at=timezone.now()
    )
    if marked:
        counts_forget([user.pk])
    return marked


# -- preferences --------------------------------------------------------------------------
def deliveries_for(*, user_ids: Iterable[int], kind: str) -> dict[int, str]:
    """Each member's delivery for `kind` (their choice, else the default). One query."""
    user_ids = list(user_ids)
    chosen = dict(
        Preference.objects.filter(user_id__in=user_ids, kind=kind).values_list(
            "user_id", "delivery"
        )
    )
    default = DEFAULT_DELIVERY[kind]
    return {uid: chosen.get(uid, default) for uid in user_ids}


def preference_set(*, user, kind: str, delivery: str) -> None:
    if kind not in Kind.values or delivery not in Delivery.values:
        raise ValueError("unknown kind or delivery")
    Preference.objects.update_or_create(user=user, kind=kind, defaults={"delivery": delivery})


def preferences_for(*, user) -> dict[str, str]:
    chosen = dict(Preference.objects.filter(user=user).values_list("kind", "delivery"))
    return {kind: chosen.get(kind, DEFAULT_DELIVERY[kind]) for kind in Kind.values}


# -- unsubscribe --------------------------------------------------------------------------
def unsubscribe_token(*, user_id: int, kind: str) -> str:
    """A signed token naming a member and a kind ("all" for every email)."""
    return signing.dumps([user_id, kind], salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_read(token: str) -> tuple[int, str] | None:
    try:
        user_id, kind = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if kind != "all" and kind not in Kind.values:
        return None
    return int(user_id), kind


@transaction.atomic
def unsubscribe(*, user_id: int, kind: str) -> int:
    """Switch the kind (or every kind) to site only. Repeating it changes nothing."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return 0
    kinds = Kind.values if kind == "all" else [kind]
    for k in kinds:
        Preference.objects.update_or_create(user=user, kind=k, defaults={"delivery": Delivery.SITE})
    return len(kinds)


def unsubscribe_url(*, user_id: int, kind: str) -> str:
    path = reverse(
        "notifications:unsubscribe", kwargs={"token": unsubscribe_token(user_id=user_id, kind=kind)}
    )
    return settings.SITE_URL.rstrip("/") + path


# -- emails -------------------------------------------------------------------------------
# A digest claimed by a run that has not marked it sent within this long is taken to be
# from a run that died, and another run may take it over (call_once then tells whether
# the dead run's mail went out).
DIGEST_CLAIM_SECONDS = 10 * 60


def _site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path if path else settings.SITE_URL


def message_id(key: str) -> str:
    """A Message-ID made from an idempotency key: a resend of the same email (an attempt
    that died after sending) carries the same id, which mail systems can deduplicate."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "bookshare.local"
    return f"<{digest}@{domain}>"


class _LazyConnection:
    """One SMTP connection for a consumer's messages, opened when the first is sent
    (a repeat that has nothing left to send never connects)."""

    def __init__(self):
        self.connection = None

    def get(self):
        if self.connection is None:
            self.connection = get_connection()
            self.connection.open()
        return self.connection

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:  # noqa: BLE001 - closing a broken connection changes nothing
                log.debug("closing the SMTP connection failed", exc_info=True)
            self.connection = None


def _send(
    *, to: str, template: str, context: dict, unsubscribe: str, mail_key: str, connection=None
) -> str:
    """Render and send one email; returns its Message-ID (stored by call_once)."""
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    context["unsubscribe_url"] = unsubscribe
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    mid = message_id(mail_key)
    message = EmailMultiAlternatives(
        subject=subject[:200],
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={
            "Message-ID": mid,
            # RFC 8058: mail clients may POST "List-Unsubscribe=One-Click" to this URL.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        connection=connection.get() if isinstance(connection, _LazyConnection) else connection,
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    message.send()
    return mid


def email_now(*, event_id, targets: Iterable[Target], key: str | None = None) -> int:
    """Email each target whose member chose "an email at once" for its kind.

    Runs outside any transaction (the `mail` consumer is atomic=False). Each recipient's
    message goes out through `call_once` under `<key>:<recipient>` (key: the delivery's
    idempotency key), then an `EmailSent` row (unique per event and recipient) records
    it. A failed send raises: the delivery retries, and recipients already mailed are
    skipped by their completed keys. Returns how many emails this call sent.
    """
    event_id = uuid.UUID(str(event_id))
    key = key or f"notifications.email_now:{event_id}"
    if idempotency.in_transaction():
        raise TransactionRequired(
            "email_now() inside a transaction: the SMTP conversation would hold its locks"
        )
    sent = 0
    by_kind: dict[str, list[Target]] = {}
    for t in targets:
        by_kind.setdefault(t.kind, []).append(t)
    connection = _LazyConnection()
    try:
        for kind, group in by_kind.items():
            deliveries = deliveries_for(user_ids=[t.recipient_id for t in group], kind=kind)
            wanted = [t for t in group if deliveries[t.recipient_id] == Delivery.IMMEDIATE]
            if not wanted:
                continue
            done = set(
                EmailSent.objects.filter(
                    event_id=event_id, recipient_id__in=[t.recipient_id for t in wanted]
                ).values_list("recipient_id", flat=True)
            )
            users = User.objects.in_bulk(
                [t.recipient_id for t in wanted if t.recipient_id not in done]
                + [t.actor_id for t in wanted if t.actor_id]
            )
            titles = _titles(wanted)
            request_titles = _request_titles(wanted)
            for t in wanted:
                recipient = users.get(t.recipient_id)
                if recipient is None or t.recipient_id in done:
                    continue
                if not recipient.is_active or not recipient.email or not recipient.is_verified:
                    continue
                item = Notification(
                    kind=t.kind,
                    actor=users.get(t.actor_id),
                    actor_count=1,
                    post_id=t.post_id,
                    request_id=t.request_id,
                    title=titles.get(t.book_id) or request_titles.get(t.request_id) or "a book",
                    detail=t.detail,
                )
                send_key = f"{key}:{recipient.pk}"
                already = idempotency.completed(send_key)
                idempotency.call_once(
                    send_key,
                    _send,
                    to=recipient.email,
                    template="notifications/email/notification",
                    context={
                        "user": recipient,
                        "item": item,
                        "link": _site_url(item.target_url()),
                        "settings_url": _site_url(reverse("notifications:settings")),
                    },
                    unsubscribe=unsubscribe_url(user_id=recipient.pk, kind=t.kind),
                    mail_key=send_key,
                    connection=connection,
                )
                # Recorded after the send, in its own short transaction (unique per
                # event and recipient: a repeat writes nothing).
                EmailSent.objects.bulk_create(
                    [EmailSent(event_id=event_id, recipient=recipient, kind=t.kind)],
                    ignore_conflicts=True,
                )
                sent += 0 if already else 1
    finally:
        connection.close()
    return sent


def digest_send_all(*, day=None) -> int:
    """One email per member with unread notifications of their "daily digest" kinds from
    the last day, at most one a day (a DigestSent row per member and day, claimed before
    the send). Each member's digest is handled on its own: one bad address does not hold
    up the rest, and no transaction is open while mail is sent."""
    day = day or timezone.localdate()
    since = timezone.now() - timezone.timedelta(days=1)
    recipient_ids = (
        Notification.objects.filter(read_at=None, updated_at__gte=since)
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    sent = 0
    for recipient_id in list(recipient_ids):
        try:
            sent += digest_send(recipient_id=recipient_id, day=day, since=since)
        except Exception:  # noqa: BLE001 - logged; the next beat tries that member again
            log.exception("digest for member %s failed", recipient_id)
    return sent


def digest_key(*, recipient_id: int, day) -> str:
    return f"notifications.digest:{recipient_id}:{day.isoformat()}"


def _digest_claim(*, recipient_id: int, day, items: int) -> DigestSent | None:
    """Claim the member's digest for the day (a committed DigestSent row, not yet sent).
    None when another run has it: sent, or claimed recently by a run still going."""
    now = timezone.now()
    try:
        with transaction.atomic():
            return DigestSent.objects.create(
                recipient_id=recipient_id, day=day, items=items, claimed_at=now
            )
    except IntegrityError:
        pass
    # Someone's claim exists: take it over only if it was never marked sent and is old
    # enough that its run must have died (one UPDATE, so two runs cannot both win).
    taken = DigestSent.objects.filter(
        recipient_id=recipient_id,
        day=day,
        sent_at=None,
        claimed_at__lt=now - timedelta(seconds=DIGEST_CLAIM_SECONDS),
    ).update(claimed_at=now, items=items)
    if not taken:
        return None
    return DigestSent.objects.get(recipient_id=recipient_id, day=day)


def digest_send(*, recipient_id: int, day, since) -> int:
    """Send one member's digest for `day`, at most once however many runs try."""
    if DigestSent.objects.filter(recipient_id=recipient_id, day=day).exists():
        stale = DigestSent.objects.filter(
            recipient_id=recipient_id,
            day=day,
            sent_at=None,
            claimed_at__lt=timezone.now() - timedelta(seconds=DIGEST_CLAIM_SECONDS),
        ).exists()
        if not stale:
            return 0
    user = User.objects.filter(pk=recipient_id, is_active=True).first()
    if user is None or not user.email or not user.is_verified:
        return 0
    prefs = preferences_for(user=user)
    kinds = [k for k, d in prefs.items() if d == Delivery.DIGEST]
    items = list(
        Notification.objects.filter(
            recipient=user, read_at=None, updated_at__gte=since, kind__in=kinds
        )
        .select_related("actor")
        .order_by("-updated_at")[:50]
    )
    if not items:
        return 0
    claim = _digest_claim(recipient_id=user.pk, day=day, items=len(items))
    if claim is None:
        return 0
    key = digest_key(recipient_id=user.pk, day=day)
    already = idempotency.completed(key)
    try:
        idempotency.call_once(
            key,
            _send,
            to=user.email,
            template="notifications/email/digest",
            context={
                "user": user,
                "items": [(n, _site_url(n.target_url())) for n in items],
                "inbox_url": _site_url(reverse("notifications:list")),
                "settings_url": _site_url(reverse("notifications:settings")),
            },
            unsubscribe=unsubscribe_url(user_id=user.pk, kind="all"),
            mail_key=key,
        )
    except Exception:
        # Not sent: give the claim back, so the next run tries again.
        DigestSent.objects.filter(pk=claim.pk, sent_at=None).delete()
        raise
    DigestSent.objects.filter(pk=claim.pk).update(sent_at=timezone.now())
    return 0 if already else 1
