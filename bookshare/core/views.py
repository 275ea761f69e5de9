from django.contrib.admin.views.decorators import staff_member_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from bookshare.eventbus.stats import collect

from .health import check_broker, check_database


@require_GET
@never_cache
def healthz(request):
    """200 when the database and the broker answer, else 503. JSON either way."""
    checks = {"database": check_database(), "broker": check_broker()}
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503
    )


@staff_member_required
@never_cache
def event_stats(request):
    return render(request, "core/event_stats.html", {"stats": collect()})
