"""Admission control in the app server: under overload, 503 with Retry-After at once instead of a long queue.

gunicorn's threaded worker puts every request it reads into its thread pool's queue, however long that queue
is: under a burst (a whole prefecture filing at once) requests wait there for seconds, time out at the
client, and the client's retry joins the same queue. This worker class keeps the wait bounded instead:

- each worker keeps a moving average of how long the application takes per request;
- a request read from a kept-alive connection whose expected wait (requests queued ahead × average time ÷
  threads) is above the budget is answered at once by a small separate thread, without queueing;
- a request that waited more than the budget anyway (the estimate was wrong, or it came on a new
  connection) is answered the same way when a thread takes it.

The answer is 503 with `Retry-After`, the API's structured error (`code: overloaded`) or a short page in the
reader's language, and the application is not called: nothing is recorded, nothing half-done. No
connection is refused or dropped. `/healthz`, `/readyz` and `/metrics` are always served (a load balancer
must not take a busy server for a dead one). The budget is `ADMISSION_QUEUE_BUDGET_MS` (default 250; 0
turns admission control off); figures in docs/benchmarks.md ("Intake under load").

Used by `manage.py serve` (`--worker-class guichet.operations.admission.AdmissionThreadWorker`).
"""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent import futures

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header
from gunicorn.workers.gthread import ThreadWorker

from guichet.api.errors import error_body

# Served whatever the load: probes and the metrics scraper.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
RETRY_AFTER_SECONDS = 2
API_PREFIX = "/api/"
# Weight of the latest request in the moving average of the application's time per request.
SMOOTHING = 0.1
# The average before any request was measured: a cheap page.
INITIAL_SERVICE_SECONDS = 0.01


def budget_seconds() -> float:
    return max(0.0, float(os.environ.get("ADMISSION_QUEUE_BUDGET_MS", "250")) / 1000)


class Admission:
    """What one worker knows about its load; shared by its threads (the counts under one lock)."""

    def __init__(self, threads: int, budget: float):
        self.threads = max(1, threads)
        self.budget = budget
        self.lock = threading.Lock()
        self.queued = 0
        self.service_seconds = INITIAL_SERVICE_SECONDS
        self.local = threading.local()

    def expected_wait(self) -> float:
        return self.queued * self.service_seconds / self.threads

    def queue(self) -> None:
        with self.lock:
            self.queued += 1

    def start(self) -> None:
        with self.lock:
            self.queued -= 1

    def measured(self, seconds: float) -> None:
        # A lost update between two threads only makes the average a little older.
        self.service_seconds += SMOOTHING * (seconds - self.service_seconds)


class AdmissionApp:
    """The WSGI application, or the overload answer for a request that its thread marked as shed."""

    def __init__(self, application, admission: Admission):
        self.application = application
        self.admission = admission

    def __call__(self, environ, start_response):
        if getattr(self.admission.local, "shed", False) and environ.get("PATH_INFO") not in EXEMPT_PATHS:
            return overloaded(environ, start_response)
        started = time.monotonic()
        try:
            return self.application(environ, start_response)
        finally:
            self.admission.measured(time.monotonic() - started)


class AdmissionThreadWorker(ThreadWorker):
    """gunicorn's gthread worker with a bounded wait (see the module's docstring)."""

    def init_process(self):
        self.admission = Admission(self.cfg.threads, budget_seconds())
        # Answers 503 without waiting behind the queue; one thread is enough, each answer takes well under
        # a millisecond.
        self.shed_pool = futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="shed")
        super().init_process()

    def load_wsgi(self):
        super().load_wsgi()
        self.wsgi = AdmissionApp(self.wsgi, self.admission)

    def enqueue_req(self, conn):
        admission = self.admission
        conn.guichet_queued_at = time.monotonic()
        # A kept-alive connection has its request ready to read; a new one may still be sending it, and
        # the shed thread must never wait for a slow client.
        if admission.budget and conn.initialized and admission.expected_wait() > admission.budget:
            fs = self.shed_pool.submit(self._handle_shed, conn)
        else:
            admission.queue()
            fs = self.tpool.submit(self._handle_queued, conn)
        fs.add_done_callback(lambda fut: self.method_queue.defer(self.finish_request, conn, fut))

    def _handle_queued(self, conn):
        admission = self.admission
        admission.start()
        waited = time.monotonic() - conn.guichet_queued_at
        admission.local.shed = bool(admission.budget) and waited > admission.budget
        try:
            return self.handle(conn)
        finally:
            admission.local.shed = False

    def _handle_shed(self, conn):
        self.admission.local.shed = True
        return self.handle(conn)

    def handle_quit(self, sig, frame):
        self.shed_pool.shutdown(wait=False)
        super().handle_quit(sig, frame)


# --- the answer ---------------------------------------------------------------------------------------------

_answers: dict[tuple[str, bool], bytes] = {}


def overloaded(environ, start_response):
    is_api = environ.get("PATH_INFO", "").startswith(API_PREFIX)
    language = _language(environ, is_api)
    body = _answers.get((language, is_api))
    if body is None:
        body = _answers[(language, is_api)] = _render(language, is_api)
    start_response(
        "503 Service Unavailable",
        [
            ("Content-Type", "application/json" if is_api else "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Retry-After", str(RETRY_AFTER_SECONDS)),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
        ],
    )
    return [body]


def _language(environ, is_api: bool) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    if not is_api:
        first = environ.get("PATH_INFO", "").lstrip("/").split("/", 1)[0]
        if first in codes:
            return first
    for code, _quality in parse_accept_lang_header(environ.get("HTTP_ACCEPT_LANGUAGE", "")[:200]):
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def _render(language: str, is_api: bool) -> bytes:
    with translation.override(language):
        message = translation.gettext(
            "Too many people are using the service at this moment. Nothing you sent was recorded: "
            "try again in a few seconds."
        )
        if is_api:
            return json.dumps(error_body("overloaded", message)).encode()
        return render_to_string(
            "operations/overloaded.html",
            {"message": message, "bidi": translation.get_language_bidi(), "language": language},
        ).encode()
