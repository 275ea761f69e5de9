from django import template

from books import selectors
from books.views import paginate

register = template.Library()


@register.inclusion_tag("books/_member_posts.html", takes_context=True)
def member_posts(context, member):
    """A member's book posts, for their profile page: paginated with `?posts_page=`, in a
    constant number of queries."""
    request = context.get("request")
    page_obj = None
    if request is not None:
        page_obj = paginate(request, selectors.posts_for_member(member=member), param="posts_page")
    is_self = bool(
        request is not None and request.user.is_authenticated and request.user.pk == member.pk
    )
    return {"member": member, "page_obj": page_obj, "request": request, "is_self": is_self}


@register.simple_tag(takes_context=True)
def page_url(context, number, param="page"):
    """The current URL's query string with `param` set to `number`."""
    request = context["request"]
    params = request.GET.copy()
    params[param] = number
    return "?" + params.urlencode()
