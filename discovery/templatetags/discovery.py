from django import template

from .. import selectors

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
    request = context.get("request")
    return {
        "c": selectors.community(genre=genre, user=getattr(request, "user", None)),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
