from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from books.views import page_size

from . import selectors, services
from .forms import PreferencesForm
from .models import Kind


@login_required
def notification_list(request):
    counts = selectors.counts_for(user=request.user)
    paginator = Paginator(selectors.notifications_for(user=request.user), page_size())
    paginator.count = counts["total"]  # known already: no second COUNT
    page_obj = paginator.get_page(request.GET.get("page", "1")[:12])
    unread = counts["unread"]
    return render(
        request,
        "notifications/list.html",
        {"page_obj": page_obj, "unread": unread, "unread_count": unread},
    )


@login_required
def bell(request):
    """The header's bell alone: htmx polls it to refresh the count."""
    return render(
        request,
        "notifications/_bell.html",
        {"unread": selectors.unread_count(user=request.user), "user": request.user},
    )


def _back(request):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("notifications:list")


@login_required
@require_POST
def mark_read(request, pk: int):
    services.notification_mark_read(user=request.user, pk=pk)
    return _back(request)


@login_required
@require_POST
def mark_all_read(request):
    count = services.notifications_mark_all_read(user=request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return redirect("notifications:list")


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    current = services.preferences_for(user=request.user)
    form = PreferencesForm(request.POST or None, initial_prefs=current)
    if request.method == "POST" and form.is_valid():
        for kind, delivery in form.cleaned_data.items():
            if current[kind] != delivery:
                services.preference_set(user=request.user, kind=kind, delivery=delivery)
        messages.success(request, "Your notification settings are saved.")
        return redirect("notifications:settings")
    return render(request, "notifications/preferences.html", {"form": form})


@csrf_exempt  # the signed token is the credential; mail clients POST here (RFC 8058)
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET shows what will stop and a button; POST (the button, or a mail client's
    one-click request) switches it to site only. No sign-in needed."""
    found = services.unsubscribe_read(token)
    if found is None:
        raise Http404("This unsubscribe link is not valid.")
    user_id, kind = found
    label = "all notification emails" if kind == "all" else Kind(kind).label.lower()
    if request.method == "POST":
        services.unsubscribe(user_id=user_id, kind=kind)
        return render(request, "notifications/unsubscribed.html", {"label": label})
    return render(request, "notifications/unsubscribe.html", {"label": label})
