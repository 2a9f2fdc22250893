"""What one filing costs in-process: SQL statements and time, by the API, with a profile of the slowest part.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guichet_bench python bench/intake.py [--filings 300]

Runs `migrate` and a small demo (`--no-demo` skips it), then files `--filings` requests of distinct people
through `POST /api/v1/requests` with Django's test client (the whole stack: middleware, validation, the
duplicate check, the request, its proof and audit entry, its message, the allocation trigger), each in its
own transaction as in production, and then as many repeated filings (the duplicate answer). In the same run
it times a trivial view taking the same POST body behind the same middleware: the baseline. Prints the
statements per filing (with each statement's text once, with `--statements`), p50/p95 milliseconds, the ratio
to the baseline, and with `--profile` the functions that take the most time.

Rate limits are raised for the run only (settings), as in bench/load.py.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filings", type=int, default=300, help="timed filings (default 300)")
    parser.add_argument("--requests", default="200", help="synthetic requests for the demo (default 200)")
    parser.add_argument("--no-demo", action="store_true", help="use the database as it is")
    parser.add_argument("--allow-sqlite", action="store_true", help="run on SQLite (figures not comparable)")
    parser.add_argument("--statements", action="store_true", help="print the SQL of one filing")
    parser.add_argument("--profile", action="store_true", help="print the 25 costliest functions")
    parser.add_argument("--profile-out", default="", help="also write the raw profile here (pstats)")
    return parser.parse_args()


def setup(args: argparse.Namespace) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guichet.settings")
    for name in ("RATE_LIMIT_FILING_ADDRESS", "RATE_LIMIT_FILING_IDENTITY"):
        os.environ[name] = "1000000/h"
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")) and not args.allow_sqlite:
        sys.exit("Set DATABASE_URL to a PostgreSQL database (or pass --allow-sqlite).")
    import django

    django.setup()


def body_for(number: int, prefecture: str, procedure: str) -> bytes:
    from bench.load import filing_body

    return json.dumps(filing_body(number, prefecture, procedure, run="intake")).encode()


def main() -> int:
    args = parse_args()
    setup(args)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from bench.load import demo_target, trivial_urls

    call_command("migrate", verbosity=0)
    if not args.no_demo:
        call_command("demo", requests=args.requests, stdout=io.StringIO())
    prefecture, procedure = demo_target()
    client = Client()
    seed = int(time.time())

    def timed(path: str, body: bytes) -> tuple[float, int, int]:
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.post(path, body, content_type="application/json")
            elapsed = time.perf_counter() - start
        return elapsed * 1000, len(queries), response.status_code

    with override_settings(ROOT_URLCONF=trivial_urls()):
        for number in range(20):
            timed("/trivial", body_for(number, prefecture, procedure))
        baseline = [timed("/trivial", body_for(n, prefecture, procedure))[0] for n in range(args.filings)]

    bodies = [body_for(seed * 100000 + n, prefecture, procedure) for n in range(args.filings + 20)]
    for body in bodies[:20]:
        timed("/api/v1/requests", body)
    profiler = cProfile.Profile() if args.profile else None
    filed, counts, codes = [], [], []
    if profiler:
        profiler.enable()
    for body in bodies[20:]:
        ms, count, code = timed("/api/v1/requests", body)
        filed.append(ms)
        counts.append(count)
        codes.append(code)
    if profiler:
        profiler.disable()
    repeated, repeated_counts = [], []
    for body in bodies[20:]:
        ms, count, _code = timed("/api/v1/requests", body)
        repeated.append(ms)
        repeated_counts.append(count)
    if args.statements:
        with CaptureQueriesContext(connection) as queries:
            client.post(
                "/api/v1/requests", body_for(seed * 100000 - 1, prefecture, procedure), "application/json"
            )
        for number, query in enumerate(queries.captured_queries, 1):
            print(f"{number:3d}. {query['sql'][:200]}")

    def line(label: str, values: list[float], statements: list[int] | None) -> None:
        p50 = statistics.median(values)
        p95 = statistics.quantiles(values, n=20)[18]
        extra = f"  statements {statistics.median(statements):.0f}" if statements else ""
        ratio = p50 / statistics.median(baseline)
        print(f"{label:<22} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  p50/baseline {ratio:6.1f}{extra}")

    print(f"database {connection.vendor}, {args.filings} filings, answers {sorted(set(codes))}")
    line("trivial POST", baseline, None)
    line("filing (201)", filed, counts)
    line("repeated filing (200)", repeated, repeated_counts)
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        print(out.getvalue())
        if args.profile_out:
            profiler.dump_stats(args.profile_out)
    return 0 if set(codes) == {201} else 1


if __name__ == "__main__":
    sys.exit(main())
