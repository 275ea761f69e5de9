from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from bookshare.core import cache

from .. import conf, selectors

register = template.Library()


@register.inclusion_tag("discovery/_home_strip.html", takes_context=True)
def for_you_strip(context):
    """Up to six recommendations for the signed-in member (nothing for visitors)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    items = selectors.for_you(user=user, limit=6) if user and user.is_authenticated else []
    return {"items": items, "request": request}


@register.inclusion_tag("discovery/_genre_community.html", takes_context=True)
def genre_community(context, genre):
    """The genre's community panel. Its columns (trending, reviews, reviewers, who joined)
    are the same for everyone, so they are rendered once and kept in the shared cache for
    DISCOVERY_GENRE_PANEL_SECONDS (a few seconds: a busy genre page costs their queries
    and rendering once per interval, and what a member just did shows within it); the
    member count and your join/leave button are read on every view (one query). With
    the cache down, rendered every time (bookshare/core/cache.py)."""
    request = context.get("request")
    key = selectors.genre_columns_key(genre.pk)
    columns = cache.get(key)
    if columns is None:
        columns = render_to_string(
            "discovery/_genre_columns.html", {"c": selectors.genre_columns(genre=genre)}
        )
        seconds = conf.genre_panel_seconds()
        if seconds > 0:
            cache.set(key, columns, seconds)
    count, is_member = selectors.genre_membership(genre=genre, user=getattr(request, "user", None))
    return {
        "genre": genre,
        "member_count": count,
        "is_member": is_member,
        "columns": mark_safe(columns),  # noqa: S308 - our own template's output
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
