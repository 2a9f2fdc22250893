import hashlib

import django.db.models.deletion
from django.db import migrations, models

from guichet.dbops import PostgresOnlySQL


def fingerprint_issued_proofs(apps, schema_editor):
    """Every proof already issued gets its fingerprint (SHA-256 of the token), so that erasing its text
    later leaves the register able to recognise the copy its person holds."""
    Proof = apps.get_model("evidence", "Proof")
    batch = []
    for proof in Proof.objects.only("pk", "token").order_by("pk").iterator(chunk_size=2000):
        proof.fingerprint = hashlib.sha256(proof.token.encode("ascii")).hexdigest()
        batch.append(proof)
        if len(batch) == 2000:
            Proof.objects.bulk_update(batch, ["fingerprint"])
            batch = []
    Proof.objects.bulk_update(batch, ["fingerprint"])


class Migration(migrations.Migration):
    dependencies = [("evidence", "0004_proofs_append_only")]

    operations = [
        migrations.AddField(
            model_name="proof",
            name="fingerprint",
            field=models.CharField(db_index=True, default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AlterField(model_name="proof", name="token", field=models.TextField(blank=True)),
        # Filling the fingerprints updates issued proofs: the append-only trigger is replaced first by the
        # one that stays, which accepts a single change, erasing the token (docs/privacy.md).
        PostgresOnlySQL(
            sql="""
                DROP TRIGGER evidence_proof_append_only ON evidence_proof;
            """,
            reverse_sql="""
                CREATE TRIGGER evidence_proof_append_only
                    BEFORE UPDATE OR DELETE ON evidence_proof
                    FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change();
            """,
        ),
        migrations.RunPython(fingerprint_issued_proofs, migrations.RunPython.noop),
        PostgresOnlySQL(
            sql="""
                CREATE FUNCTION evidence_proof_only_erasure() RETURNS trigger AS $$
                BEGIN
                    IF TG_OP = 'UPDATE' AND NEW.token = '' AND NEW.id = OLD.id
                       AND NEW.request_id = OLD.request_id AND NEW.event = OLD.event
                       AND NEW.issued_at = OLD.issued_at AND NEW.kid = OLD.kid
                       AND NEW.fingerprint = OLD.fingerprint THEN
                        RETURN NEW;
                    END IF;
                    RAISE EXCEPTION 'evidence_proof is append-only (its token may only be erased): % refused on row %',
                        TG_OP, OLD.id USING ERRCODE = 'insufficient_privilege';
                END;
                $$ LANGUAGE plpgsql;
                CREATE TRIGGER evidence_proof_append_only
                    BEFORE UPDATE OR DELETE ON evidence_proof
                    FOR EACH ROW EXECUTE FUNCTION evidence_proof_only_erasure();
            """,
            reverse_sql="""
                DROP TRIGGER evidence_proof_append_only ON evidence_proof;
                DROP FUNCTION evidence_proof_only_erasure();
            """,
        ),
        migrations.AddConstraint(
            model_name="proof",
            constraint=models.CheckConstraint(
                condition=~models.Q(fingerprint=""), name="proof_has_fingerprint"
            ),
        ),
        migrations.CreateModel(
            name="AuditPersonalData",
            fields=[
                (
                    "entry",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="personal_data",
                        serialize=False,
                        to="evidence.auditentry",
                    ),
                ),
                ("salt", models.CharField(max_length=32)),
                ("fields", models.JSONField(default=dict)),
            ],
        ),
        migrations.AddField(
            model_name="courtorder",
            name="case_ended_on",
            field=models.DateField(blank=True, null=True, verbose_name="case ended on"),
        ),
    ]
