from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from books import views as book_views
from bookshare.core import views as core_views

admin.site.site_header = "BookShare administration"
admin.site.site_title = "BookShare admin"

urlpatterns = [
    path("", book_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("ops/events/", core_views.event_stats, name="event_stats"),
    path("metrics", core_views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("", include("bookshare.core.urls")),
    path("", include("accounts.urls")),
    path("", include("books.urls")),
    path("", include("lists.urls")),
    path("", include("reactions.urls")),
    path("", include("exchanges.urls")),
    path("", include("notifications.urls")),
    path("", include("discovery.urls")),
    path("", include("catalogue.urls")),
]

if settings.DEBUG:
    # Uploaded covers under `make run`. In production the front proxy (or object
    # storage) serves MEDIA_URL; see docs/operations.md.
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
