"""The web face of accounts: register, verify by code, sign in/out, passwords, profiles.

No view sends email: registration, "send a new code" and password reset publish events
whose consumers send from the `email` worker.
"""

from datetime import UTC, datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from . import clock
from .decorators import verified_required
from .forms import (
    ChangeEmailForm,
    CodeForm,
    LockoutAwarePasswordChangeForm,
    LoginForm,
    ProfileForm,
    QueuedPasswordResetForm,
    RegistrationForm,
)
from .lockout import account_unlock
from .models import User
from .ratelimit import client_ip, rate_limited
from .selectors import (
    VerificationState,
    user_get_by_username,
    user_get_pending,
    verification_state,
)
from .services import (
    registration_attempt_on_existing,
    unverified_replaceable,
    user_change_unverified_email,
    user_profile_update,
    user_register,
    verification_code_check,
    verification_code_request,
)

# The member a browser is confirming (not signed in until the code is right). Only the
# user id is kept in the session: never the code.
PENDING_KEY = "accounts_pending_user_id"
# Registering with an address that already has an account answers exactly as for a new
# one (no enumeration): the browser is shown the same "enter your code" page for an
# account that is not there. Its state lives in the session under this key.
PHANTOM_KEY = "accounts_pending_phantom"
BACKEND = "accounts.backends.EmailOrUsernameBackend"


def _pending_user(request):
    if request.user.is_authenticated:
        return request.user
    return user_get_pending(user_id=request.session.get(PENDING_KEY))


def _safe_next(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if len(candidate) <= 2000 and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _verify_url(next_url: str = "") -> str:
    url = reverse("accounts:verify")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _wait_text(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minutes"


# -- registration and verification --------------------------------------------------------
@require_http_methods(["GET", "POST"])
@rate_limited("register")
def register(request):
    if request.user.is_authenticated and request.user.is_verified:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # An unverified account with this address is replaced by the new registration;
        # any other account means "someone tried to register with your address".
        holders = User.objects.filter(email__iexact=data["email"])
        if holders.exclude(pk__in=unverified_replaceable(email=data["email"])).exists():
            return _register_existing(request, data["email"])
        try:
            user = user_register(
                email=data["email"],
                username=data["username"],
                password=data["password1"],
                ip=client_ip(request),
            )
        except ValidationError as error:
            if "email" in getattr(error, "error_dict", {}):
                # Taken by a concurrent request after the check above: same answer.
                return _register_existing(request, data["email"])
            form.add_error(None, error)
        else:
            request.session.cycle_key()
            request.session.pop(PHANTOM_KEY, None)
            request.session[PENDING_KEY] = user.pk
            return redirect("accounts:verify")
    return render(request, "accounts/register.html", {"form": form})


def _register_existing(request, email: str):
    """Answer as for a new account; the owner gets a "someone tried" email instead."""
    registration_attempt_on_existing(email=email, ip=client_ip(request))
    request.session.cycle_key()
    request.session.pop(PENDING_KEY, None)
    request.session[PHANTOM_KEY] = {
        "email": email,
        "requested_at": clock.now().timestamp(),
        "failures": 0,
    }
    return redirect("accounts:verify")


def _phantom_wait(phantom: dict) -> int:
    elapsed = clock.now().timestamp() - phantom["requested_at"]
    return max(0, int(settings.ACCOUNTS_RESEND_COOLDOWN_SECONDS - elapsed))


def _phantom_verify(request, phantom: dict, next_url: str):
    """The verify page for an address that already had an account: looks and answers
    like the real one (a code is "on its way", typed codes are wrong, then locked)."""
    form = CodeForm(request.POST or None)
    max_failures = settings.ACCOUNTS_CODE_MAX_FAILURES
    if request.method == "POST" and form.is_valid():
        phantom["failures"] = min(max_failures, phantom.get("failures", 0) + 1)
        request.session[PHANTOM_KEY] = phantom
        tries_left = max_failures - phantom["failures"]
        if tries_left > 0:
            tries = "1 try" if tries_left == 1 else f"{tries_left} tries"
            form.add_error("code", f"That code isn't right. You have {tries} left.")
        else:
            form.add_error("code", CHECK_MESSAGES["locked"])
    failures = phantom.get("failures", 0)
    code_status = "locked" if failures >= max_failures else "active" if failures else "none"
    expires_at = datetime.fromtimestamp(
        phantom["requested_at"] + settings.ACCOUNTS_CODE_TTL_SECONDS, tz=UTC
    )
    state = VerificationState(
        code_status=code_status,
        tries_left=max_failures - failures,
        expires_at=expires_at,
        resend_wait_seconds=_phantom_wait(phantom),
        email=phantom["email"],
    )
    return render(request, "accounts/verify.html", {"form": form, "state": state, "next": next_url})


CHECK_MESSAGES = {
    "locked": "Too many wrong tries: that code no longer works. Ask for a new code below.",
    "expired": "That code has expired (codes last {minutes} minutes). Ask for a new one below.",
    "no_code": "Your code is still on its way. Give it a few seconds, then check your inbox "
    "(and the spam folder).",
}


@require_http_methods(["GET", "POST"])
@rate_limited("verify")
def verify(request):
    user = _pending_user(request)
    next_url = _safe_next(request)
    phantom = request.session.get(PHANTOM_KEY)
    if user is None and phantom:
        return _phantom_verify(request, phantom, next_url)
    if user is None:
        messages.info(request, "Sign in to confirm your email address.")
        return redirect_to_login(_verify_url(next_url))
    if user.is_verified:
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = verification_code_check(
            user=user, code=form.cleaned_data["code"], ip=client_ip(request)
        )
        if result.verified:
            request.session.pop(PENDING_KEY, None)
            login(request, user, backend=BACKEND)
            messages.success(
                request,
                f"Welcome to {settings.SITE_NAME}, {user.username}! "
                "Your email address is confirmed.",
            )
            return redirect(next_url or settings.LOGIN_REDIRECT_URL)
        if result.outcome == "wrong":
            tries = "1 try" if result.tries_left == 1 else f"{result.tries_left} tries"
            form.add_error("code", f"That code isn't right. You have {tries} left.")
        else:
            minutes = settings.ACCOUNTS_CODE_TTL_SECONDS // 60
            form.add_error("code", CHECK_MESSAGES[result.outcome].format(minutes=minutes))
    return _render_verify(request, user, form=form, next_url=next_url)


def _render_verify(request, user, *, form=None, email_form=None, next_url=""):
    context = {
        "form": form or CodeForm(),
        "email_form": email_form or ChangeEmailForm(),
        "state": verification_state(user=user),
        "next": next_url,
    }
    return render(request, "accounts/verify.html", context)


@require_POST
@rate_limited("resend")
def verify_change_email(request):
    """A mistyped address, corrected on the verify page: a new code goes to the new one."""
    user = _pending_user(request)
    next_url = _safe_next(request)
    if user is None:
        return redirect_to_login(_verify_url(next_url))
    if user.is_verified:
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    form = ChangeEmailForm(request.POST)
    if form.is_valid():
        try:
            user_change_unverified_email(
                user=user, email=form.cleaned_data["email"], ip=client_ip(request)
            )
        except ValidationError as error:
            form.add_error("email", error.message_dict.get("email", error.messages))
        else:
            user.refresh_from_db()
            messages.success(request, f"Address changed. A new code is on its way to {user.email}.")
            return redirect(_verify_url(next_url))
    return _render_verify(request, user, email_form=form, next_url=next_url)


@require_POST
@rate_limited("resend")
def verify_resend(request):
    user = _pending_user(request)
    next_url = _safe_next(request)
    phantom = request.session.get(PHANTOM_KEY)
    if user is None and phantom:
        wait = _phantom_wait(phantom)
        if wait:
            messages.warning(
                request, f"Please wait {_wait_text(wait)} before asking for another code."
            )
        else:
            phantom.update(requested_at=clock.now().timestamp(), failures=0)
            request.session[PHANTOM_KEY] = phantom
            messages.success(
                request,
                f"A new code is on its way to {phantom['email']}. It replaces the previous one.",
            )
        return redirect(_verify_url(next_url))
    if user is None:
        return redirect_to_login(_verify_url(next_url))
    result = verification_code_request(user=user, ip=client_ip(request))
    if result.outcome == "already_verified":
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    if result.sent:
        messages.success(
            request,
            f"A new code is on its way to {user.email}. It replaces the previous one.",
        )
    else:
        messages.warning(
            request,
            f"Please wait {_wait_text(result.wait_seconds)} before asking for another code.",
        )
    return redirect(_verify_url(next_url))


# -- signing in and out -------------------------------------------------------------------
@method_decorator(rate_limited("login"), name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not user.is_verified:
            # Right password, unconfirmed address: not into the site, to the code page.
            self.request.session.cycle_key()
            self.request.session[PENDING_KEY] = user.pk
            messages.info(self.request, "Please confirm your email address to finish signing in.")
            return redirect(_verify_url(self.get_redirect_url()))
        return super().form_valid(form)


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You're signed out. See you soon!")
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change_form.html"
    success_url = reverse_lazy("accounts:password_change_done")
    form_class = LockoutAwarePasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


@method_decorator(rate_limited("password_reset"), name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    form_class = QueuedPasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        # The emailed link proves the owner: lift a sign-in lockout on the account.
        account_unlock(form.user)
        return super().form_valid(form)


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


# -- profiles -----------------------------------------------------------------------------
def profile(request, username):
    member = user_get_by_username(username=username)
    if member is None or not member.is_verified:
        raise Http404("No such member.")
    is_own = request.user.is_authenticated and request.user.pk == member.pk
    return render(request, "accounts/profile.html", {"member": member, "is_own": is_own})


@require_http_methods(["GET", "POST"])
@verified_required
def profile_edit(request, username):
    if username.casefold() != request.user.username.casefold():
        raise PermissionDenied("You can only edit your own profile.")
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user_profile_update(
            user=request.user,
            bio=form.cleaned_data["bio"],
            favourite_genres=form.cleaned_data["favourite_genres"],
        )
        messages.success(request, "Your profile is saved.")
        return redirect("accounts:profile", username=request.user.username)
    return render(request, "accounts/profile_edit.html", {"form": form})


password_change = login_required(PasswordChangeView.as_view())
password_change_done = login_required(PasswordChangeDoneView.as_view())
