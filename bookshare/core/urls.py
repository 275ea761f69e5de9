"""The site's own pages: about, how sharing works, privacy, terms, contact; the favicon."""

from django.conf import settings
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import path
from django.views.generic import TemplateView


class SitePage(TemplateView):
    def get_context_data(self, **kwargs):
        return super().get_context_data(CONTACT_EMAIL=settings.CONTACT_EMAIL, **kwargs)


def page(name: str):
    return SitePage.as_view(template_name=f"core/pages/{name}.html")


def favicon(request):
    # Resolved per request: with the manifest storage, static() needs collectstatic's
    # manifest, which does not exist yet when collectstatic itself loads the URLs.
    return HttpResponsePermanentRedirect(static("favicon.svg"))


urlpatterns = [
    path("about/", page("about"), name="about"),
    path("how-sharing-works/", page("how_sharing_works"), name="how_sharing_works"),
    path("privacy/", page("privacy"), name="privacy"),
    path("terms/", page("terms"), name="terms"),
    path("contact/", page("contact"), name="contact"),
    # Browsers that ignore <link rel="icon"> still ask for /favicon.ico.
    path("favicon.ico", favicon),
]
