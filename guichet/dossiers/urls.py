"""Dossier pages: the person's (under their request's private address), the back office's, and the public
history of a procedure's lists of documents. Included under /<lang>/ by guichet/urls.py."""

from django.urls import path

from guichet.backoffice import urls as backoffice_urls  # noqa: F401  (registers the ref and dept converters)

from .views import applicant, public, staff

app_name = "dossiers"

urlpatterns = [
    path(
        "procedures/<str:prefecture>/<slug:code>/documents/",
        public.checklist_versions,
        name="checklist_versions",
    ),
    path("r/<str:reference>/<str:token>/dossier/", applicant.dossier, name="applicant_dossier"),
    path("r/<str:reference>/<str:token>/dossier/submit/", applicant.submit, name="applicant_submit"),
    path(
        "r/<str:reference>/<str:token>/dossier/upload/<slug:item>/", applicant.upload, name="applicant_upload"
    ),
    path(
        "r/<str:reference>/<str:token>/dossier/documents/<int:document_id>/",
        applicant.document,
        name="applicant_document",
    ),
    path("staff/requests/<ref:reference>/dossier/", staff.dossier, name="staff_dossier"),
    path("staff/requests/<ref:reference>/dossier/review/", staff.review, name="staff_review"),
    path("staff/requests/<ref:reference>/dossier/upload/<slug:item>/", staff.upload, name="staff_upload"),
    path(
        "staff/requests/<ref:reference>/dossier/documents/<int:document_id>/",
        staff.document,
        name="staff_document",
    ),
    path("staff/<dept:code>/forms/", staff.forms_list, name="forms_list"),
    path("staff/<dept:code>/forms/<slug:procedure_code>/", staff.form_editor, name="form_editor"),
]
