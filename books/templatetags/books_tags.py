from django import template

register = template.Library()


@register.inclusion_tag("books/_member_posts.html", takes_context=True)
def member_posts(context, member):
    """A member's book posts, for their profile page."""
    return {"member": member, "posts": [], "request": context.get("request")}
