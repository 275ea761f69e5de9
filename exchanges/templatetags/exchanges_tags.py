"""`{% request_panel post %}` on the post page and `{% exchange_counts member %}` on the
profile: the exchanges app's parts of other apps' pages."""

from django import template

from books.models import BookPost

from .. import selectors
from ..forms import RequestForm

register = template.Library()


@register.inclusion_tag("exchanges/_request_panel.html", takes_context=True)
def request_panel(context, post):
    user = context["request"].user
    ctx = {"post": post, "user": user, "request": context["request"]}
    if not user.is_authenticated:
        return ctx
    if post.owner_id == user.pk:
        ctx["open_count"] = selectors.open_request_count(post=post)
        ctx["is_owner"] = True
        return ctx
    ctx["existing"] = selectors.active_request(post=post, user=user)
    if post.status == BookPost.Status.AVAILABLE and ctx["existing"] is None and user.is_verified:
        swap = (
            list(selectors.swap_candidates(user=user))
            if post.offer == BookPost.Offer.SWAP
            else None
        )
        ctx["form"] = RequestForm(swap_choices=swap)
    return ctx


@register.inclusion_tag("exchanges/_exchange_counts.html")
def exchange_counts(member):
    return {"member": member, "counts": selectors.member_exchange_counts(user=member)}
