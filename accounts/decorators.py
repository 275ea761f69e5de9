"""Access rules for views: a signed-in member whose email address is verified."""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse


def verified_required(view):
    """Signed-out → sign-in page; signed in but unverified → the verify page, with a note."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user.is_verified:
            messages.info(request, "Please confirm your email address first.")
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('accounts:verify')}?{query}")
        return view(request, *args, **kwargs)

    return wrapper
