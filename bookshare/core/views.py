import hmac

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from bookshare.eventbus.stats import collect, last_hour_charts

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
    return render(
        request,
        "core/event_stats.html",
        {"stats": collect(), "charts": last_hour_charts()},
    )


def _bearer_token_ok(request) -> bool:
    """True when METRICS_TOKEN is set and the request carries it (constant-time compare)."""
    expected = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


@require_GET
@never_cache
def metrics(request):
    """Prometheus text format: for signed-in staff, or `Authorization: Bearer <METRICS_TOKEN>`.

    Anyone else: 403 if signed in (not staff), else 401 asking for a bearer token.
    """
    from prometheus_client import CONTENT_TYPE_LATEST

    from bookshare.eventbus.metrics import render as render_metrics

    if not (request.user.is_authenticated and request.user.is_staff) and not _bearer_token_ok(
        request
    ):
        if request.user.is_authenticated:
            return HttpResponse("Staff only.\n", status=403, content_type="text/plain")
        response = HttpResponse(
            "Sign in as staff, or send Authorization: Bearer <METRICS_TOKEN>.\n",
            status=401,
            content_type="text/plain",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(render_metrics(), content_type=CONTENT_TYPE_LATEST)
