"""The admin site every app registers with (INSTALLED_APPS has
`bookshare.core.apps.BookShareAdminConfig` instead of `django.contrib.admin`).

On top of Django's admin:
- the sign-in form has the same per-address limit as the site's (django-axes adds the
  per-account lockout to both, through the authentication backend);
- odd input in the URL or form of an admin page (a filter value no column can hold,
  a non-numeric `_selected_action`) is a 400, not a 500;
- an action needs more than the view permission: one declared without
  `allowed_permissions` is offered only to staff who may change the model.
"""

from __future__ import annotations

import functools
import logging

from django.contrib import admin
from django.contrib.admin.options import ModelAdmin
from django.core.exceptions import ValidationError
from django.db import DataError
from django.http import HttpResponseBadRequest

log = logging.getLogger("django.security.admin")

BAD_INPUT = (DataError, OverflowError, ValidationError)


class BookShareAdminSite(admin.AdminSite):
    def admin_view(self, view, cacheable=False):
        wrapped = super().admin_view(view, cacheable)

        @functools.wraps(wrapped)
        def guarded(request, *args, **kwargs):
            try:
                return wrapped(request, *args, **kwargs)
            except BAD_INPUT as exc:
                return _bad_input(request, exc)
            except ValueError as exc:
                # int("abc") from a `_selected_action` or a filter value: bad input only
                # when the request carried some; anything else is a bug, so re-raise.
                if not (request.GET or "_selected_action" in request.POST):
                    raise
                return _bad_input(request, exc)

        return guarded

    def login(self, request, extra_context=None):
        from accounts.ratelimit import rate_limited

        view = rate_limited("login")(super().login)
        return view(request, extra_context)


def _bad_input(request, exc):
    log.warning("admin: bad input on %s: %s", request.path, exc, exc_info=True)
    return HttpResponseBadRequest(
        "That request has a value this page cannot use (a filter or a selection out of "
        "range). Go back and try again.",
        content_type="text/plain; charset=utf-8",
    )


def _filter_actions_by_permissions(self, request, actions):
    """Django keeps an action with no `allowed_permissions` for anyone who may view the
    list. Here such an action needs the change permission (delete_selected declares
    its own)."""
    filtered = []
    for action in actions:
        func = action[0]
        if not hasattr(func, "allowed_permissions") and not self.has_change_permission(request):
            continue
        filtered.append(action)
    return _original_filter(self, request, filtered)


_original_filter = ModelAdmin._filter_actions_by_permissions
ModelAdmin._filter_actions_by_permissions = _filter_actions_by_permissions
