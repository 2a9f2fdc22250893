from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

from guichet.dbops import PostgresOnlySQL


class Migration(migrations.Migration):
    dependencies = [("appointments", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        # Two live appointments can never overlap at one counter, whatever slots they came from.
        PostgresOnlySQL(
            sql="""
                ALTER TABLE appointments_appointment
                ADD CONSTRAINT appointment_no_overlap_per_counter
                EXCLUDE USING gist (counter_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
                WHERE (status IN ('confirmed', 'checked_in'))
            """,
            reverse_sql="ALTER TABLE appointments_appointment DROP CONSTRAINT appointment_no_overlap_per_counter",
        ),
    ]
