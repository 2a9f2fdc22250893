"""Public pages carry the language in their URL (/fr/…, /ar/…) so a link opens in its reader's language.

Machine-facing addresses (API, JWK set, static files) do not.
"""

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from guichet.backoffice.views.proconnect import proconnect_callback

urlpatterns = [
    # The address registered at ProConnect: one for every language, so it stays outside the prefix.
    path("staff/proconnect/callback/", proconnect_callback, name="proconnect_callback"),
    path("api/", include("guichet.api.urls")),
    path("", include("guichet.operations.urls")),
    path("", include("guichet.evidence.urls_wellknown")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("django-admin/", admin.site.urls),
]

urlpatterns += i18n_patterns(
    path("staff/", include("guichet.backoffice.urls")),
    path("staff/", include("guichet.reception.urls")),
    path("", include("guichet.dossiers.urls")),
    path("", include("guichet.residence.urls")),
    path("", include("guichet.spaces.urls")),
    path("", include("guichet.evidence.urls")),
    path("", include("guichet.reception.urls_public")),
    path("", include("guichet.public.urls")),
    prefix_default_language=True,
)
