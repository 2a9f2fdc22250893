"""Public page: every version of a procedure's list of documents, with the dates each was in force (R17)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from guichet.catalog.models import Procedure


def checklist_versions(request: HttpRequest, prefecture: str, code: str) -> HttpResponse:
    procedure = get_object_or_404(
        Procedure.objects.select_related("prefecture"), prefecture__code=prefecture.upper(), code=code
    )
    versions = list(procedure.checklist_versions.order_by("-number"))
    rows = []
    until = None
    for version in versions:
        rows.append({"version": version, "until": until})
        until = version.published_at
    return render(request, "dossiers/checklist_versions.html", {"procedure": procedure, "rows": rows})
