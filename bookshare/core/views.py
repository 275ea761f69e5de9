from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from bookshare.eventbus.stats import collect

from .health import overall, run_checks


@require_GET
@never_cache
def healthz(request):
    """200 "ok" or "degraded" (broker or cache down: the site still serves), 503
    "unavailable" (database down). JSON either way.

    Everyone sees which parts are up; the error text (hosts, ports, driver messages)
    and timings only signed-in staff."""
    results = run_checks()
    status, code = overall(results)
    staff = request.user.is_authenticated and request.user.is_staff
    checks = results if staff else {name: {"ok": r["ok"]} for name, r in results.items()}
    down = sorted(name for name, r in results.items() if not r["ok"])
    return JsonResponse({"status": status, "down": down, "checks": checks}, status=code)


@staff_member_required
@permission_required("eventbus.view_delivery", raise_exception=True)
@never_cache
def event_stats(request):
    return render(request, "core/event_stats.html", {"stats": collect()})
