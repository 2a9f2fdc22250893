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
]
