"""Intake under load on the production stack, against a trivial view in the same run (not a test: it prints).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guichet_bench REDIS_URL=redis://127.0.0.1:6379/2 \\
        python bench/load.py [--connections 50,200,500] [--duration 10] [--workers 3] [--threads 1]

Starts what `manage.py serve` starts (gunicorn with its worker model, the task worker and the clock), with
DEBUG off, on 127.0.0.1:--port, against PostgreSQL with the demo (`--no-demo` keeps the database as it is)
and Redis; rate limits are raised for this run only, by its settings module (bench/settings.py), which also
adds the trivial views (bench/trivial_urls.py). Each scenario first runs --warmup seconds unmeasured (one
connection per server thread), so that no measure pays for a process's first requests, and after each
measure it waits for the background to drain (/readyz: no task queued, an outbox that no longer shrinks),
so that no measure pays for the previous one's receipts. Then, for each number of connections, wrk
(`/usr/bin/wrk`, --duration seconds each) drives, one after the other:

- the trivial POST (an empty view reading the same JSON body) and the trivial GET, on the same middleware;
- filing by the API (`POST /api/v1/requests`, a new person each time);
- filing by the page form (with its CSRF cookie and token, a new person each time);
- the status of a request by its token (`GET /api/v1/requests/<ref>` with X-Access-Token);
- the home page and the procedure page.

It prints req/s, p50 and p99 latency, errors (connections refused or broken, time-outs, 5xx) and 503s with
Retry-After apart, and each rate's ratio to its trivial view. Afterwards it checks that every 201 (API) and
every redirect to the receipt (form) stored exactly one request with exactly one receipt proof, that no 5xx
occurred, and that `verify_audit` passes. The last lines say whether the targets of issue #10 are met.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

WRK = "/usr/bin/wrk"
TARGET_FILING_RATIO = 0.40  # of the trivial POST, at 50 connections
TARGET_P99_MS_AT_200 = 500.0
TARGET_PAGE_RATIO = 0.50  # of the trivial GET
LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Names the warm-up's filings apart from every measure's (those are salted with their connections).
WARMUP_SALT = 99991


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", default="50,200,500", help="comma-separated (default 50,200,500)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measure (default 10)")
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument(
        "--background",
        choices=("on", "off"),
        default="on",
        help="start the task worker and the clock as serve does (default on; off: the web server alone)",
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes (default 3)")
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per worker; 1 is sync workers (default 4, gthread)"
    )
    # One wrk thread: wrk runs on the same two cores as the stack, and every thread it adds is taken from the
    # server (docs/benchmarks.md).
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument(
        "--backoff-ms",
        type=int,
        default=0,
        help="after a 503 with Retry-After, delay one next request by this much (default 0: at once)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=3,
        help="seconds of each scenario run first and not measured, at one connection per thread (default 3)",
    )
    parser.add_argument("--requests", default="2000", help="synthetic requests for the demo (default 2000)")
    parser.add_argument("--no-demo", action="store_true", help="use the database as it is")
    parser.add_argument("--only", default="", help="comma-separated scenario names (default: all)")
    return parser.parse_args()


# --- what the scenarios send --------------------------------------------------------------------------------


def trivial_urls() -> str:
    return "bench.trivial_urls"


def letters_for(number: int) -> str:
    name, rest = "", number
    while True:
        rest, digit = divmod(rest, 26)
        name += LETTERS[digit]
        if rest == 0:
            return name


def filing_body(number: int, prefecture: str, procedure: str, *, run: str) -> dict:
    """A valid first-permit filing of a person that no other number gives (names differ by letters only)."""
    return {
        "prefecture": prefecture,
        "procedure": procedure,
        "family_names": f"Bench {run} {letters_for(number)}",
        "given_names": "Alex",
        "birth_date": (datetime.date(1960, 1, 1) + datetime.timedelta(days=number % 15000)).isoformat(),
        "nationality": "MA",
        "email": "bench@example.org",
        "language": "fr",
    }


def demo_target() -> tuple[str, str]:
    """The demo prefecture and its first-permit procedure (queue mode)."""
    from guichet.catalog.demo import FIRST, PREFECTURE

    return PREFECTURE["code"], FIRST


# wrk's Lua: every thread counts the statuses it gets; done() prints one JSON line with the totals.
LUA_COMMON = r"""
local threads = {}
local counter = 1
function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end
statuses = {}
retry_after = 0
-- Clients that honour Retry-After: each 503 with Retry-After delays one next request of this thread by
-- BACKOFF_MS (wrk's Lua does not say which connection asks, so it is the next one to send; as many
-- delays as 503s). BACKOFF_MS = 0: wrk sends again at once, as a client that ignores it.
local backoffs = 0
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 503 and headers["Retry-After"] then
    retry_after = retry_after + 1
    if BACKOFF_MS > 0 then backoffs = backoffs + 1 end
  end
end
function delay()
  if backoffs > 0 then
    backoffs = backoffs - 1
    return BACKOFF_MS
  end
  return 0
end
function done(summary, latency, requests)
  local totals = {}
  local retried = 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      totals[tostring(status)] = (totals[tostring(status)] or 0) + count
    end
    retried = retried + thread:get("retry_after")
  end
  local parts = {}
  for status, count in pairs(totals) do table.insert(parts, string.format('"%s": %d', status, count)) end
  io.write(string.format(
    'WRK-RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "connect": %d, ' ..
    '"read": %d, "write": %d, "timeout": %d, "retry_after": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    retried, table.concat(parts, ", ")))
end
local letters = "abcdefghijklmnopqrstuvwxyz"
function letters_for(number)
  local name = ""
  repeat
    local digit = number % 26
    name = name .. letters:sub(digit + 1, digit + 1)
    number = math.floor(number / 26)
  until number == 0
  return name
end
sent = 0
"""


def lua_fixed(method: str, path: str, headers: dict[str, str], body: str | None) -> str:
    return LUA_COMMON + (
        f"wrk.method = {json.dumps(method)}\nwrk.path = {json.dumps(path)}\n"
        + "".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in headers.items())
        + (f"wrk.body = {json.dumps(body)}\n" if body is not None else "")
    )


def lua_api_filing(run: str, prefecture: str, procedure: str) -> str:
    # `run` names this measure: every wrk run starts its counters again, and must not file the same people.
    template = json.dumps(filing_body(0, prefecture, procedure, run=run))
    template = template.replace(f"Bench {run} a", f"Bench {run} FAMILY").replace('"Alex"', '"Alex GIVEN"')
    before, rest = template.split("FAMILY")
    middle, after = rest.split("GIVEN")
    return LUA_COMMON + (
        "request = function()\n"
        "  sent = sent + 1\n"
        # The thread's letters go in the given names: identity keys fold the spaces inside each field.
        f"  local body = {json.dumps(before)} .. letters_for(sent) .. {json.dumps(middle)} .. letters_for(id)"
        f" .. {json.dumps(after)}\n"
        '  return wrk.format("POST", "/api/v1/requests", {["Content-Type"] = "application/json"}, body)\n'
        "end\n"
    )


def lua_form_filing(run: str, path: str, cookie: str, csrf: str) -> str:
    fields = {
        "csrfmiddlewaretoken": csrf,
        "birth_date": "1985-03-04",
        "nationality": "MA",
        "email": "bench@example.org",
        "language": "fr",
    }
    encoded = urllib.parse.urlencode(fields)
    prefix = urllib.parse.quote_plus(f"Bench {run} ")
    return LUA_COMMON + (
        "request = function()\n"
        "  sent = sent + 1\n"
        f"  local name = {json.dumps(prefix)} .. letters_for(sent)\n"
        # The thread's letters go in the given names: identity keys fold the spaces inside each field.
        f'  local body = "family_names=" .. name .. "&given_names=Alex+" .. letters_for(id) .. "&" .. '
        f"{json.dumps(encoded)}\n"
        "  local headers = {\n"
        '    ["Content-Type"] = "application/x-www-form-urlencoded",\n'
        f'    ["Cookie"] = {json.dumps(cookie)},\n'
        "  }\n"
        f'  return wrk.format("POST", {json.dumps(path)}, headers, body)\n'
        "end\n"
    )


def lua_status(pairs: list[tuple[str, str]]) -> str:
    table = ",\n".join(f"  {{{json.dumps(ref)}, {json.dumps(token)}}}" for ref, token in pairs)
    return LUA_COMMON + (
        f"local known = {{\n{table}\n}}\n"
        "request = function()\n"
        "  sent = sent + 1\n"
        "  local pick = known[(sent * 7 + id) % #known + 1]\n"
        '  return wrk.format("GET", "/api/v1/requests/" .. pick[1], {["X-Access-Token"] = pick[2]})\n'
        "end\n"
    )


# --- running ------------------------------------------------------------------------------------------------


@dataclass
class Measure:
    scenario: str
    connections: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]
    socket_errors: int
    retry_after: int
    web_cpu_s: float = 0.0
    background_cpu_s: float = 0.0
    database_cpu_s: float = 0.0
    load_average: float = 0.0

    @property
    def rate(self) -> float:
        """Answers per second, counting the 503s of admission control."""
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def served_rate(self) -> float:
        """Answers per second other than the 503s with Retry-After: the work the stack did."""
        return (self.requests - self.retry_after) / self.seconds if self.seconds else 0.0

    @property
    def web_cpu_ms(self) -> float:
        """CPU time of the gunicorn processes per answer (every answer, 503s included)."""
        return 1000 * self.web_cpu_s / self.requests if self.requests else 0.0

    @property
    def database_cpu_ms(self) -> float:
        return 1000 * self.database_cpu_s / self.requests if self.requests else 0.0

    @property
    def errors(self) -> int:
        """Refused or broken connections, time-outs and 5xx other than a 503 with Retry-After; a measure that
        got no answer at all counts its connections as errors (the stack did not answer)."""
        server_errors = sum(n for status, n in self.statuses.items() if status.startswith("5"))
        errors = self.socket_errors + server_errors - self.retry_after
        return errors if self.requests else max(errors, self.connections)


def wrk(lua: str, url: str, connections: int, seconds: int, threads: int, backoff_ms: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f"BACKOFF_MS = {int(backoff_ms)}\n" + lua)
    try:
        completed = subprocess.run(
            [
                WRK,
                f"-t{min(threads, connections)}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
    finally:
        os.unlink(script.name)
    found = re.search(r"WRK-RESULT (\{.*\})", completed.stdout)
    if not found:
        raise RuntimeError(f"wrk gave no result: {completed.stdout}\n{completed.stderr}")
    return json.loads(found.group(1))


def measure(
    name: str, lua: str, base: str, connections: int, args: argparse.Namespace, stack: Stack
) -> Measure:
    before = stack.cpu()
    raw = wrk(lua, base, connections, args.duration, args.wrk_threads, args.backoff_ms)
    after = stack.cpu()
    socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    if socket_errors and os.environ.get("BENCH_VERBOSE"):
        print(f"  wrk socket errors of {name}: {raw}", flush=True)
    return Measure(
        web_cpu_s=after["web"] - before["web"],
        background_cpu_s=after["background"] - before["background"],
        database_cpu_s=after["database"] - before["database"],
        load_average=os.getloadavg()[0],
        scenario=name,
        connections=connections,
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        statuses=raw["statuses"],
        socket_errors=socket_errors,
        retry_after=raw["retry_after"],
    )


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User and system CPU seconds of one process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class Stack:
    process: subprocess.Popen
    log: Path
    env: dict = field(default_factory=dict)
    # CPU seconds of every process seen so far, kept after it exits (a gunicorn worker may be replaced).
    seen: dict[int, tuple[str, float]] = field(default_factory=dict)

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of the web server (gunicorn), of the task worker and clock, and of this
        database's PostgreSQL backends (others' databases on the machine are not counted)."""
        for pid in self.session_pids():
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            kind = "web" if "gunicorn" in command else "background" if "manage.py" in command else None
            if kind:
                self.seen[pid] = (kind, process_cpu(pid) or self.seen.get(pid, (kind, 0.0))[1])
        for pid in self.database_pids():
            self.seen[pid] = ("database", process_cpu(pid) or self.seen.get(pid, ("database", 0.0))[1])
        totals = {"web": 0.0, "background": 0.0, "database": 0.0}
        for kind, seconds in self.seen.values():
            totals[kind] += seconds
        return totals

    def session_pids(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getsid(int(entry.name)) == self.process.pid:
                        pids.append(int(entry.name))
                except OSError:
                    continue
        return pids

    def database_pids(self) -> list[int]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return [pid for (pid,) in cursor.fetchall()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def environment(args: argparse.Namespace) -> dict[str, str]:
    secrets_dir = ROOT / "var" / "bench-load"
    secrets_dir.mkdir(parents=True, exist_ok=True)
    keys = {}
    for name in ("SECRET_KEY", "IDENTITY_HMAC_KEY", "FIELD_ENCRYPTION_KEY"):
        path = secrets_dir / name.lower()
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
        keys[name] = os.environ.get(name) or path.read_text()
    return {
        **os.environ,
        **keys,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "0",
        "TESTING": "0",
        "SITE_URL": f"http://127.0.0.1:{args.port}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        # Messages are made as in production (the receipt with its PDF proof), then dropped: nobody reads
        # them, and the console backends (which DEBUG=0 refuses) would print their private links.
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "SMS_BACKEND": "guichet.notifications.sms.FileBackend",
        "SMS_FILE_PATH": str(secrets_dir / "sms"),
    }


def start_stack(args: argparse.Namespace, env: dict[str, str]) -> Stack:
    log = ROOT / "var" / "bench-load-server.log"
    command = [
        sys.executable,
        "manage.py",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(args.port),
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        *(["--no-background"] if args.background == "off" else []),
    ]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True)
    stack = Stack(process, log, env)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return stack
        except OSError:
            time.sleep(0.5)
        if process.poll() is not None:
            break
    stack.stop()
    raise RuntimeError(f"the server did not become ready; see {log}")


def form_credentials(base: str, path: str) -> tuple[str, str]:
    """The CSRF cookie and the form's token, as a browser gets them by opening the form."""
    with urllib.request.urlopen(base + path, timeout=30) as answer:
        html = answer.read().decode()
        cookies = answer.headers.get_all("Set-Cookie") or []
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    cookie = next(c.split(";")[0] for c in cookies if c.startswith("csrftoken="))
    return cookie, csrf


def prefile(run: str, count: int) -> list[tuple[str, str]]:
    """Requests whose status the status scenario reads, with their tokens (filed in-process)."""
    from guichet.catalog.models import Prefecture
    from guichet.evidence.audit import APPLICANT
    from guichet.waitlist.services import file_request
    from guichet.waitlist.validation import validate_intake

    code, procedure = demo_target()
    prefecture = Prefecture.objects.get(code=code)
    pairs = []
    for number in range(count):
        body = filing_body(number, code, procedure, run=run + "status")
        data = validate_intake(body, prefecture, channel="web")
        result = file_request(data, prefecture=prefecture, channel="web", actor=APPLICANT)
        pairs.append((result.request.reference, result.access_token))
    return pairs


def checks(run: str, filed: int) -> tuple[list[str], str]:
    """Problems found after the run (empty: all is well), and what was stored."""
    from django.db.models import Count, Q

    from guichet.evidence.services import verify_audit
    from guichet.waitlist.models import AppointmentRequest

    problems = []
    stored = AppointmentRequest.objects.filter(family_names__startswith=f"Bench {run} ")
    count = stored.count()
    # Requests still in flight when a measure ended are stored without wrk counting their answer: every
    # answer must have its request, and no person may have two.
    if count < filed:
        problems.append(f"{filed} filings answered as created, only {count} requests stored")
    twice = stored.values("identity_key").annotate(n=Count("id")).filter(n__gt=1).count()
    if twice:
        problems.append(f"{twice} people stored twice")
    receipts = stored.annotate(receipts=Count("proofs", filter=Q(proofs__event="received")))
    wrong = receipts.exclude(receipts=1).count()
    if wrong:
        problems.append(f"{wrong} requests without exactly one receipt proof")
    audit = verify_audit()
    if audit:
        problems.append(f"verify_audit: {len(audit)} problem(s), first: {audit[0]}")
    return problems, f"{filed} answered as created, {count} stored (the rest answered after wrk stopped)"


def main() -> int:
    args = parse_args()
    if not Path(WRK).exists():
        sys.exit(f"{WRK} is needed (apt-get install wrk)")
    env = environment(args)
    if not env.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")) or not env.get(
        "REDIS_URL"
    ):
        sys.exit("Set DATABASE_URL to a PostgreSQL database and REDIS_URL to a Redis database.")
    os.environ.update(
        {
            k: env[k]
            for k in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "IDENTITY_HMAC_KEY", "FIELD_ENCRYPTION_KEY")
        }
    )
    os.environ["TESTING"] = "0"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if not args.no_demo:
        call_command("demo", requests=args.requests, verbosity=0)
    run = letters_for(int(time.time()) % (26**5))
    pairs = prefile(run, 200)
    from django.db import connection

    connection.close()

    code, procedure = demo_target()
    form_path = f"/fr/procedures/{code}/{procedure}/request/"
    base = f"http://127.0.0.1:{args.port}"
    trivial_body = json.dumps(filing_body(0, code, procedure, run=run))
    stack = start_stack(args, env)
    measures: list[Measure] = []
    try:
        cookie, csrf = form_credentials(base, form_path)

        def scenarios(salt: str) -> dict[str, str]:
            return {
                "trivial POST": lua_fixed(
                    "POST", "/trivial", {"Content-Type": "application/json"}, trivial_body
                ),
                "trivial GET": lua_fixed("GET", "/trivial/get", {}, None),
                "filing (API)": lua_api_filing(f"{run} {salt}", code, procedure),
                "filing (form)": lua_form_filing(f"{run} {salt}", form_path, cookie, csrf),
                "status by token": lua_status(pairs),
                "home page": lua_fixed("GET", "/fr/", {}, None),
                "procedure page": lua_fixed("GET", f"/fr/procedures/{code}/{procedure}/", {}, None),
            }

        wanted = [name.strip() for name in args.only.split(",") if name.strip()] or list(scenarios(""))
        if args.warmup:
            # Each process's first requests of a kind pay for what is done once (imports, the catalogue
            # kept, templates compiled, the signing key read): not what a loaded server costs.
            warm = scenarios(letters_for(WARMUP_SALT))
            for name in wanted:
                wrk(warm[name], base, args.workers * args.threads, args.warmup, args.wrk_threads, 0)
            time.sleep(2)
        for connections in [int(c) for c in args.connections.split(",")]:
            lua = scenarios(letters_for(connections))
            for name in wanted:
                result = measure(name, lua[name], base, connections, args, stack)
                measures.append(result)
                print_measure(result, measures)
                # Each measure starts with the background idle: the receipts and allocation runs a burst of
                # filings queued would otherwise run during the next scenario's measure.
                drained = drain(base)
                if drained > 2:
                    print(f"  (background drained in {drained:.0f} s)", flush=True)
    finally:
        stack.stop()
    django.db.connections.close_all()
    filed = sum(m.statuses.get("201", 0) for m in measures if m.scenario == "filing (API)") + sum(
        m.statuses.get("302", 0) for m in measures if m.scenario == "filing (form)"
    )
    problems, stored = checks(run, filed)
    print(stored)
    return summary(args, measures, problems)


def drain(base: str, *, at_most: float = 90.0) -> float:
    """Wait until /readyz shows no task queued and an outbox that no longer shrinks (messages due later,
    and letters to print, stay pending); seconds waited."""
    started = time.monotonic()
    time.sleep(2)
    previous = None
    while time.monotonic() - started < at_most:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=5) as answer:
                ready = json.loads(answer.read())
        except (OSError, ValueError):
            ready = {}
        outbox = ready.get("outbox_backlog")
        if ready.get("task_backlog") == 0 and outbox is not None and outbox == previous:
            break
        previous = outbox
        time.sleep(1)
    return time.monotonic() - started


def baseline_for(result: Measure, measures: list[Measure]) -> Measure | None:
    name = "trivial POST" if result.scenario.startswith("filing") else "trivial GET"
    return next((m for m in measures if m.scenario == name and m.connections == result.connections), None)


def print_measure(result: Measure, measures: list[Measure]) -> None:
    baseline = baseline_for(result, measures)
    ratio = (
        f"{result.served_rate / baseline.served_rate:6.1%}" if baseline and baseline.served_rate else "     -"
    )
    statuses = " ".join(f"{s}:{n}" for s, n in sorted(result.statuses.items()))
    print(
        f"c={result.connections:<4} {result.scenario:<16} {result.served_rate:7.1f} served/s"
        f" p50 {result.p50_ms:7.1f} ms p99 {result.p99_ms:7.1f} ms errors {result.errors:4d}"
        f" 503+RA {result.retry_after:5d} ratio {ratio}"
        f" | cpu ms/answer web {result.web_cpu_ms:5.2f} db {result.database_cpu_ms:5.2f}"
        f" background {result.background_cpu_s:4.1f} s | load {result.load_average:4.1f} [{statuses}]",
        flush=True,
    )


def summary(args: argparse.Namespace, measures: list[Measure], problems: list[str]) -> int:
    def find(name: str, connections: int) -> Measure | None:
        return next((m for m in measures if m.scenario == name and m.connections == connections), None)

    load = os.getloadavg()
    print(
        f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{load[0]:.1f} at the end; Python {platform.python_version()}; gunicorn {args.workers} workers x "
        f"{args.threads} thread(s), admission budget "
        f"{os.environ.get('ADMISSION_QUEUE_BUDGET_MS', '250')} ms; "
        f"wrk {args.wrk_threads} thread(s), back-off after a 503 {args.backoff_ms} ms; {args.duration} s per "
        f"measure; background {args.background}"
    )
    verdicts = []
    api50, post50 = find("filing (API)", 50), find("trivial POST", 50)
    if api50 and post50:
        ratio = api50.served_rate / post50.served_rate
        verdicts.append(
            (f"filing (API) at 50 connections {ratio:.1%} of the trivial POST", ratio >= TARGET_FILING_RATIO)
        )
    api200 = find("filing (API)", 200)
    if api200:
        verdicts.append(
            (
                f"filing (API) p99 at 200 connections {api200.p99_ms:.0f} ms"
                f" ({api200.retry_after / max(api200.requests, 1):.0%} of the answers 503 with Retry-After)",
                api200.p99_ms <= TARGET_P99_MS_AT_200,
            )
        )
    at500 = [m for m in measures if m.connections == 500]
    if at500:
        errors = sum(m.errors for m in at500)
        verdicts.append((f"errors at 500 connections: {errors}", errors == 0))
    for page in ("home page", "procedure page"):
        for connections in sorted({m.connections for m in measures}):
            found, base = find(page, connections), find("trivial GET", connections)
            if found and base and connections == 50:
                ratio = found.served_rate / base.served_rate
                verdicts.append(
                    (f"{page} at 50 connections {ratio:.1%} of the trivial GET", ratio >= TARGET_PAGE_RATIO)
                )
    server_errors = sum(n for m in measures for s, n in m.statuses.items() if s.startswith("5")) - sum(
        m.retry_after for m in measures
    )
    verdicts.append((f"5xx other than 503 with Retry-After: {server_errors}", server_errors == 0))
    verdicts.append(
        ("stored requests, receipts and verify_audit: " + ("; ".join(problems) or "OK"), not problems)
    )
    for text, ok in verdicts:
        print(f"{'MET ' if ok else 'MISS'} {text}")
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
