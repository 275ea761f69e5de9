from django import template

from ..selectors import unread_count

register = template.Library()


@register.inclusion_tag("notifications/_bell.html", takes_context=True)
def notification_bell(context):
    """The bell in the header (signed-in members only): one COUNT query, none when the
    page has already counted (`unread_count` in its context)."""
    user = context["request"].user
    unread = context.get("unread_count")
    if unread is None:
        unread = unread_count(user=user) if user.is_authenticated else 0
    return {"user": user, "unread": unread}
