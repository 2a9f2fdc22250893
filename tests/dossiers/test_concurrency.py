"""No lost update on PostgreSQL with real parallel transactions: reviewers racing on one dossier, uploads
racing for one document. The control shows what happens without the revision check: every reviewer
"wins" and all but the last decision are silently lost."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guichet.dossiers import services
from guichet.dossiers.models import Document, DocumentStatus
from guichet.evidence.audit import APPLICANT, Actor, verify_chain
from guichet.evidence.services import chain_for
from tests.appointments.test_concurrency import race

from . import helpers
from .conftest import stored_files

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RACERS = 12


def _upload(request, item="doc-1", name="scan.pdf"):
    return services.upload_document(request, item, SimpleUploadedFile(name, helpers.pdf_bytes()), APPLICANT)


def test_reviewers_of_one_revision_have_exactly_one_winner(filed):
    document = _upload(filed)
    revision = services.dossier_for(filed).revision

    def review(index: int):
        decision = services.Decision(document.pk, index % 2 == 0, f"reason {index}")
        return services.review_dossier(
            filed, [decision], Actor("staff", f"agent{index}"), expected_revision=revision
        ).revision

    results = race(RACERS, review)
    counts = Counter(kind for kind, _value in results)
    assert counts == {"won": 1, "refused": RACERS - 1}, results
    assert {value for kind, value in results if kind == "refused"} == {"changed"}
    document.refresh_from_db()
    winner = next(index for index, (kind, _v) in enumerate(results) if kind == "won")
    expected = DocumentStatus.ACCEPTED if winner % 2 == 0 else DocumentStatus.TO_CORRECT
    assert document.status == expected


def test_control_without_the_revision_every_reviewer_overwrites_the_last(filed):
    document = _upload(filed)

    def review(index: int):
        decision = services.Decision(document.pk, False, f"reason {index}")
        return services.review_dossier(filed, [decision], Actor("staff", f"agent{index}")).revision

    results = race(RACERS, review)
    assert Counter(kind for kind, _value in results) == {"won": RACERS}
    # Serialised by the request lock (no broken state), but each decision replaced the previous one unseen.
    assert sorted(value for _kind, value in results) == list(range(2, RACERS + 2))


def test_parallel_uploads_for_one_item_leave_one_current_file_and_every_file_kept(filed, dossier_storage):
    results = race(RACERS, lambda index: _upload(filed, name=f"scan{index}.pdf").pk)
    assert Counter(kind for kind, _value in results) == {"won": RACERS}, results
    assert Document.objects.filter(item="doc-1").count() == RACERS
    assert Document.objects.filter(item="doc-1", replaced_at__isnull=True).count() == 1
    assert len(stored_files(dossier_storage)) == RACERS
    assert services.dossier_for(filed).revision == RACERS
    assert verify_chain(chain_for(filed)) == []
