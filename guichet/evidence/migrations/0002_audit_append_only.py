from django.db import migrations

from guichet.dbops import PostgresOnlySQL


class Migration(migrations.Migration):
    dependencies = [("evidence", "0001_initial")]

    operations = [
        # The audit log is append-only: the database itself refuses to change or remove an entry.
        # TRUNCATE is left to privileges (the application's role does not own its tables in production),
        # so that the test runner can still empty the database between tests.
        PostgresOnlySQL(
            sql="""
                CREATE FUNCTION evidence_audit_refuse_change() RETURNS trigger AS $$
                BEGIN
                    RAISE EXCEPTION 'the audit log is append-only: % refused on entry %', TG_OP, OLD.id
                        USING ERRCODE = 'insufficient_privilege';
                END;
                $$ LANGUAGE plpgsql;
                CREATE TRIGGER evidence_auditentry_append_only
                    BEFORE UPDATE OR DELETE ON evidence_auditentry
                    FOR EACH ROW EXECUTE FUNCTION evidence_audit_refuse_change();
            """,
            reverse_sql="""
                DROP TRIGGER evidence_auditentry_append_only ON evidence_auditentry;
                DROP FUNCTION evidence_audit_refuse_change();
            """,
        ),
    ]
