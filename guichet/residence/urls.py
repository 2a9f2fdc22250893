from django.urls import path

from guichet.backoffice import urls as backoffice_urls  # noqa: F401  (registers the ref converter)

from . import staff_views, views

app_name = "residence"

urlpatterns = [
    path("procedures/<str:prefecture>/<slug:code>/residence/", views.residence_check, name="check"),
    path("staff/requests/<ref:reference>/transfer/", staff_views.transfer, name="transfer"),
]
