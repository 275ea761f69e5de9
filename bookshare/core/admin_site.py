"""The admin site every app registers with (INSTALLED_APPS has
`bookshare.core.apps.BookShareAdminConfig` instead of `django.contrib.admin`).

On top of Django's admin:
- the sign-in form has the same per-address limit as the site's (django-axes adds the
  per-account lockout to both, through the authentication backend);
- odd input in the URL or form of an admin page (a filter value no column can hold,
  a non-numeric `_selected_action`, a tampered hidden field, a duplicate the form did
  not check) is a 400, not a 500;
- an action needs more than the view permission: one declared without
  `allowed_permissions` is offered only to staff with the model's change permission.
"""

from __future__ import annotations

import functools
import logging

from django.contrib import admin
from django.contrib.admin.options import ModelAdmin
from django.contrib.admin.widgets import AutocompleteMixin
from django.contrib.auth import get_permission_codename
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError
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
                # int("abc") from a `_selected_action`, a filter value or a tampered
                # hidden field (an inline's id): bad input only when the request carried
                # some; anything else is a bug, so re-raise.
                if not (request.GET or request.method == "POST"):
                    raise
                return _bad_input(request, exc)
            except IntegrityError as exc:
                # A unique value the form did not check (each admin should validate its
                # own; this is the safety net): say so instead of a 500.
                log.warning("admin: integrity error on %s: %s", request.path, exc)
                return HttpResponseBadRequest(
                    "That would duplicate an existing record (a value that must be unique "
                    "is already taken). Go back, change it and save again.",
                    content_type="text/plain; charset=utf-8",
                )

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
    list. Here such an action needs the model's change permission (delete_selected
    declares its own). The permission itself, not has_change_permission(): read-only
    admins deny editing to everyone but still offer their actions to those allowed."""
    opts = self.opts
    may_change = request.user.has_perm(
        f"{opts.app_label}.{get_permission_codename('change', opts)}"
    )
    filtered = [
        action for action in actions if hasattr(action[0], "allowed_permissions") or may_change
    ]
    return _original_filter(self, request, filtered)


_original_filter = ModelAdmin._filter_actions_by_permissions
ModelAdmin._filter_actions_by_permissions = _filter_actions_by_permissions


def _autocomplete_optgroups(self, name, value, attr=None):
    """Django's autocomplete widget re-renders a refused form by querying the selected
    values as ids: a typed-in non-number ("abc") made that query raise (a 500). Values the
    target field cannot hold are dropped before the query; the form already says why."""
    remote_opts = self.field.remote_field.model._meta
    to_field = remote_opts.get_field(
        getattr(self.field.remote_field, "field_name", None) or remote_opts.pk.name
    )
    usable = []
    for item in value:
        if item in (None, ""):
            usable.append(item)
            continue
        try:
            to_field.to_python(item)
        except (ValidationError, ValueError, TypeError):
            continue
        usable.append(item)
    return _original_optgroups(self, name, usable, attr)


_original_optgroups = AutocompleteMixin.optgroups
AutocompleteMixin.optgroups = _autocomplete_optgroups
