"""What writing filings in batches would save: the write of one filing alone against batches of 2 to 16.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guichet_intake python bench/intake_batches.py

Not a test: it prints. The filings are validated first (not timed), then written by the service, each in
its own transaction: `file_request` one by one (what intake does today), and `file_requests_bulk` (one
transaction per batch: the requests, their proofs and audit entries, their messages) for batch sizes 2,
4, 8 and 16. It prints the CPU milliseconds of this process and the wall milliseconds per filing, and each
batch size's CPU as a share of the one-by-one write measured in the same run. That bounds what a "group
commit" of the filings arriving together in one app server process could give (docs/benchmarks.md, "What
the remaining gap is made of"); it is not built. Run `bench/intake.py` first on the same database (it
makes the demo).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

BATCH_SIZES = (2, 4, 8, 16)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filings", type=int, default=240, help="filings per measure (default 240)")
    parser.add_argument("--rounds", type=int, default=2, help="times each measure is repeated (default 2)")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guichet.settings")
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL database with the demo (bench/intake.py makes it).")
    import django

    django.setup()
    from django.utils import timezone

    from bench.load import demo_target, filing_body
    from guichet.api.requests_api import API_APPLICANT
    from guichet.catalog.models import Prefecture
    from guichet.waitlist import services
    from guichet.waitlist.models import Channel
    from guichet.waitlist.validation import validate_intake

    code, procedure = demo_target()
    prefecture = Prefecture.objects.get(code=code)
    run = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6))
    numbers = iter(range(10**9))

    def validated(count: int) -> list:
        bodies = [filing_body(next(numbers), code, procedure, run=f"batches {run}") for _ in range(count)]
        return [validate_intake(body, prefecture, channel=Channel.WEB) for body in bodies]

    def timed(write, size: int) -> tuple[float, float]:
        items = validated(args.filings)
        cpu, wall = time.process_time(), time.perf_counter()
        for start in range(0, len(items), size):
            write(items[start : start + size])
        return (
            (time.process_time() - cpu) * 1000 / len(items),
            (time.perf_counter() - wall) * 1000 / len(items),
        )

    def one_by_one(items):
        for data in items:
            services.file_request(data, prefecture=prefecture, channel=Channel.WEB, actor=API_APPLICANT)

    def batch(items):
        now = timezone.now()
        services.file_requests_bulk(
            [(data, Channel.WEB, now) for data in items],
            prefecture=prefecture,
            actor=API_APPLICANT,
            send_messages=True,
        )

    timed(one_by_one, 1)  # warm-up: the catalogue, the signing key, the statements' first use
    print(f"{args.filings} filings per measure, {args.rounds} rounds, PostgreSQL, this process's CPU")
    for round_ in range(1, args.rounds + 1):
        alone_cpu, alone_wall = timed(one_by_one, 1)
        print(f"round {round_}  one by one  cpu {alone_cpu:5.2f} ms  wall {alone_wall:5.2f} ms  100 %")
        for size in BATCH_SIZES:
            cpu, wall = timed(batch, size)
            print(
                f"round {round_}  batch of {size:<2}  cpu {cpu:5.2f} ms  wall {wall:5.2f} ms  "
                f"{cpu / alone_cpu:4.0%}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
