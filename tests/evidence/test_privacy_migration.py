"""Proofs issued before the privacy change get their fingerprint from the migration, on either database."""

import hashlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from .helpers import make_request

BEFORE = [("evidence", "0004_proofs_append_only")]
AFTER = [("evidence", "0005_privacy")]


@pytest.mark.django_db(transaction=True)
def test_existing_proofs_are_fingerprinted(world):
    make_request(world)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps.get_model("evidence", "Proof")
        tokens = list(old.objects.values_list("pk", "token"))
        assert tokens
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps.get_model("evidence", "Proof")
        for pk, token in tokens:
            assert new.objects.get(pk=pk).fingerprint == hashlib.sha256(token.encode("ascii")).hexdigest()
    finally:
        # Going back to BEFORE also unapplied every app that depends on a later evidence migration:
        # the tests after this one need the whole schema again.
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
