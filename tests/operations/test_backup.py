"""A backup made as docs/deployment.md says (pg_dump, custom format) restores into an empty database where
`manage.py verify_audit` finds every audit chain, checkpoint and proof intact."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection, transaction

from guichet.evidence import audit, services
from guichet.evidence.models import AuditEntry, Proof, ProofEvent
from tests.operations.helpers import database_url
from tests.waitlist.intake_helpers import catalogue, file

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def postgres_tools():
    missing = [tool for tool in ("pg_dump", "pg_restore", "createdb", "dropdb") if shutil.which(tool) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{', '.join(missing)} required in CI")
        pytest.skip(f"needs the PostgreSQL client programs: {', '.join(missing)}")


def run(*command: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300, check=False
    )


def test_a_dump_restores_into_an_empty_database_with_chains_and_proofs_intact(postgres_tools, tmp_path):
    world = catalogue("93")
    for name in ("Alpha", "Beta", "Gamma"):
        request = file(world, family_names=name).request
        with transaction.atomic():
            services.record_event(request, ProofEvent.STILL_WAITING, audit.SYSTEM)
    services.checkpoint_audit()
    proofs, entries = Proof.objects.count(), AuditEntry.objects.count()
    assert services.verify_audit() == []

    source = connection.settings_dict["NAME"]
    target = f"{source}_restored_{uuid.uuid4().hex[:8]}"
    dump = tmp_path / "guichet.dump"
    made = run(
        "pg_dump", "--format=custom", "--no-owner", f"--file={dump}", f"--dbname={database_url(source)}"
    )
    assert made.returncode == 0, made.stderr
    created = run("createdb", f"--maintenance-db={database_url('postgres')}", target)
    assert created.returncode == 0, created.stderr
    try:
        restored = run(
            "pg_restore", "--no-owner", "--exit-on-error", f"--dbname={database_url(target)}", str(dump)
        )
        assert restored.returncode == 0, restored.stderr
        verified = run(
            sys.executable,
            "manage.py",
            "verify_audit",
            DATABASE_URL=database_url(target),
            TESTING="1",
            LOG_LEVEL="WARNING",
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "OK" in verified.stdout
        counted = run(
            sys.executable,
            "manage.py",
            "shell",
            "--verbosity=0",
            "-c",
            "from guichet.evidence.models import AuditEntry, Proof; "
            "print(Proof.objects.count(), AuditEntry.objects.count())",
            DATABASE_URL=database_url(target),
            TESTING="1",
        )
        assert counted.stdout.split() == [str(proofs), str(entries)], counted.stderr
        # The restored log is still append-only: its trigger came back with it.
        refused = run(
            "psql",
            database_url(target),
            "-c",
            "DELETE FROM evidence_auditentry WHERE id = (SELECT min(id) FROM evidence_auditentry)",
        )
        assert refused.returncode != 0 and "append-only" in refused.stderr
    finally:
        run("dropdb", f"--maintenance-db={database_url('postgres')}", "--if-exists", target)
