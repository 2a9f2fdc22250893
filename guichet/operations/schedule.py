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
    Job("send_messages", every_seconds=60, args=("--once",)),
    Job("queue_reminders", every_seconds=15 * 60),
    # Offers past their answer time go back to the queue; the allocation gives their slots again.
    Job("lapse_offers", every_seconds=60),
    Job("allocate", every_seconds=5 * 60),
]
