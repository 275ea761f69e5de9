from django import template

from bookshare.core.links import url

register = template.Library()


@register.simple_tag
def link(name: str) -> str:
    """`{% link 'home' %}`: `{% url 'home' %}` for a URL without arguments, resolved once
    per process (bookshare.core.links) instead of on every page."""
    return url(name)
