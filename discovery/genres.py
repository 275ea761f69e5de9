"""Genre communities. Membership IS accounts.User.favourite_genres (one concept): joining a
genre adds it to the member's favourite genres, and every change to that relation — from
the join/leave buttons or the profile form — publishes GenreJoined / GenreLeft (signals.py).
GenreMember only remembers *when* each member joined, for "joined lately"."""

from __future__ import annotations

import datetime as dt

from .models import GenreMember


def membership_apply(*, user_id: int, genre_id: int, joined: bool, at: dt.datetime) -> None:
    """Order-safe: a leave older than the recorded join is ignored, and vice versa."""
    from django.contrib.auth import get_user_model

    row = GenreMember.objects.select_for_update().filter(user_id=user_id, genre_id=genre_id).first()
    if row is not None and row.joined_at > at:
        return
    still_member = (
        get_user_model()
        .favourite_genres.through.objects.filter(user_id=user_id, genre_id=genre_id)
        .exists()
    )
    if joined and still_member:
        if row is None:
            from books.models import Genre

            if Genre.objects.filter(pk=genre_id).exists():
                GenreMember.objects.create(user_id=user_id, genre_id=genre_id, joined_at=at)
        else:
            row.joined_at = at
            row.save(update_fields=["joined_at"])
    elif not still_member and row is not None:
        row.delete()
