"""Public addresses of reception: the waiting room's screen and the interim documents' PDFs."""

from django.urls import path

from . import display, documents

app_name = "reception_public"

urlpatterns = [
    path("display/<int:site_id>/", display.screen, name="display"),
    path("display/<int:site_id>/events/", display.events, name="display_events"),
    path("documents/<int:pk>.pdf", documents.interim_pdf, name="interim_pdf"),
]
