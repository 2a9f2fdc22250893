from django.db import migrations

from guichet.dbops import PostgresOnlySQL


class Migration(migrations.Migration):
    dependencies = [("evidence", "0003_checkpoints_court_alerts")]

    operations = [
        # Issued proofs and signed checkpoints are statements already handed out: like the audit log,
        # the database refuses to change or remove them.
        PostgresOnlySQL(
            sql="""
                CREATE FUNCTION evidence_refuse_change() RETURNS trigger AS $$
                BEGIN
                    RAISE EXCEPTION '% is append-only: % refused on row %', TG_TABLE_NAME, TG_OP, OLD.id
                        USING ERRCODE = 'insufficient_privilege';
                END;
                $$ LANGUAGE plpgsql;
                CREATE TRIGGER evidence_proof_append_only
                    BEFORE UPDATE OR DELETE ON evidence_proof
                    FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change();
                CREATE TRIGGER evidence_auditcheckpoint_append_only
                    BEFORE UPDATE OR DELETE ON evidence_auditcheckpoint
                    FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change();
            """,
            reverse_sql="""
                DROP TRIGGER evidence_auditcheckpoint_append_only ON evidence_auditcheckpoint;
                DROP TRIGGER evidence_proof_append_only ON evidence_proof;
                DROP FUNCTION evidence_refuse_change();
            """,
        ),
    ]
