"""Thin adapter: changes to accounts.User.favourite_genres (genre membership) publish
GenreJoined / GenreLeft, whichever side of the relation made them."""

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed

from bookshare.eventbus import publish

from .events import GenreJoined, GenreLeft


def _pairs(instance, reverse: bool, pk_set) -> list[tuple[int, int]]:
    """(user_id, genre_id) pairs named by an m2m_changed call."""
    if reverse:  # genre.fans.add(user…)
        return [(pk, instance.pk) for pk in pk_set]
    return [(instance.pk, pk) for pk in pk_set]


def favourite_genres_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if kwargs.get("raw"):
        return
    through = sender
    if action in ("pre_remove", "pre_clear"):
        # Note which memberships exist now: only those are really left.
        if action == "pre_clear":
            field = "genre_id" if not reverse else "user_id"
            owner = "user_id" if not reverse else "genre_id"
            pk_set = set(
                through.objects.filter(**{owner: instance.pk}).values_list(field, flat=True)
            )
        pairs = _pairs(instance, reverse, pk_set or ())
        existing = [
            p for p in pairs if through.objects.filter(user_id=p[0], genre_id=p[1]).exists()
        ]
        instance._discovery_leaving = existing
    elif action in ("post_remove", "post_clear"):
        for user_id, genre_id in getattr(instance, "_discovery_leaving", []):
            publish(GenreLeft(user_id=user_id, genre_id=genre_id))
        instance._discovery_leaving = []
    elif action == "post_add":
        # Django passes only the rows it actually inserted.
        for user_id, genre_id in _pairs(instance, reverse, pk_set or ()):
            publish(GenreJoined(user_id=user_id, genre_id=genre_id))


def connect() -> None:
    m2m_changed.connect(
        favourite_genres_changed,
        sender=get_user_model().favourite_genres.through,
        dispatch_uid="discovery.favourite_genres_changed",
    )
