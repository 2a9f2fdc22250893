"""What the clock runs, and how often. Each job is a management command, idempotent, safe to repeat."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    command: str
    every_seconds: int
    args: tuple[str, ...] = ()


# Apps add their periodic jobs here; the clock runs each in its own process so one failure never
# stops the others.
JOBS: list[Job] = [
    Job("generate_slots", every_seconds=6 * 3600),
    # The weekly public figures are recomputed ahead of their readers (pages, CSV and JSON keep an hour).
    Job("refresh_figures", every_seconds=30 * 60),
    # Managers are told once a day when a procedure's projected wait exceeds its target.
    Job("alert_capacity", every_seconds=3600),
    Job("send_messages", every_seconds=60, args=("--once",)),
    Job("queue_reminders", every_seconds=15 * 60),
    # Offers past their answer time go back to the queue; the allocation gives their slots again.
    Job("lapse_offers", every_seconds=60),
    Job("allocate", every_seconds=5 * 60),
    # The status pages' turn windows read one engine run per prefecture, kept FORECAST_SECONDS (5 minutes):
    # run again before it is that old, so that no reader waits for it.
    Job("refresh_forecasts", every_seconds=4 * 60),
    # Managers are told once a day, before the due date, of the requests no slot serves in time.
    Job("alert_late_risk", every_seconds=3600),
    # Evidence. Each command is idempotent, so running it hourly only makes it prompt: the weekly "still
    # waiting" proofs (each request at most once per 7 days), the court orders' alerts, the late-renewal
    # attestations (once per request, from the expiry date) and the daily signed checkpoint of each audit
    # chain (at most one per chain per UTC day).
    Job("issue_weekly_statements", every_seconds=3600),
    Job("check_court_orders", every_seconds=3600),
    Job("issue_late_renewal_attestations", every_seconds=3600),
    Job("checkpoint_audit", every_seconds=3600),
    # Reception (guichet.reception): appointments nobody came to, LATE_ARRIVAL_MINUTES after their start,
    # are recorded as missed (the pause rule applies); people whose interim document ends soon are told.
    Job("record_no_shows", every_seconds=5 * 60),
    Job("remind_interim_expiry", every_seconds=3600),
    # The log of who read which file is kept ACCESS_LOG_RETENTION_DAYS, then deleted.
    Job("purge_access_log", every_seconds=24 * 3600),
    # Staff jobs' results (print runs: names and addresses) are deleted STAFF_JOB_RESULT_RETENTION_DAYS
    # after the job ended; the job's page then says so.
    Job("purge_staff_job_files", every_seconds=24 * 3600),
    # Requests past their retention periods lose their personal data (idempotent: a repeat finds nothing).
    Job("purge_personal_data", every_seconds=24 * 3600),
]
