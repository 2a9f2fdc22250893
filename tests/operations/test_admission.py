"""Admission control (guichet/operations/admission.py): under overload, 503 with Retry-After at once.

The answer itself through the WSGI wrapper, then a real gunicorn with the worker class `serve` uses, in front
of an application that takes 0.2 s per request, driven by more clients than its two threads can serve
within the budget: some are answered 503 with Retry-After and the API's structured error, none is refused
or dropped, and the health probe is served all the same. With the budget at 0 (admission off) the same
load gets no 503 at all.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from guichet.operations.admission import Admission, AdmissionApp
from tests.operations.servers import free_port, stop, wait_ready

ROOT = Path(__file__).resolve().parents[2]


def call(app, path: str, **environ) -> tuple[str, dict[str, str], bytes]:
    answer = {}

    def start_response(status, headers):
        answer["status"], answer["headers"] = status, dict(headers)

    body = b"".join(app({"PATH_INFO": path, "REQUEST_METHOD": "GET", **environ}, start_response))
    return answer["status"], answer["headers"], body


def inner(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"served"]


def test_a_shed_request_is_answered_503_with_retry_after_and_the_apis_error():
    admission = Admission(threads=4, budget=0.25)
    app = AdmissionApp(inner, admission)
    admission.local.shed = True
    try:
        status, headers, body = call(app, "/api/v1/requests", HTTP_ACCEPT_LANGUAGE="en")
        page_status, page_headers, page = call(app, "/ar/procedures/")
        probe = call(app, "/healthz")
    finally:
        admission.local.shed = False
    assert status.startswith("503") and headers["Retry-After"] == "2"
    error = json.loads(body)
    assert error["code"] == "overloaded" and "Nothing you sent was recorded" in error["message"]
    assert page_status.startswith("503") and page_headers["Retry-After"] == "2"
    assert page_headers["Content-Type"].startswith("text/html")
    assert b'lang="ar" dir="rtl"' in page and "لم يُسجَّل".encode() in page
    # Probes are always served: a busy server is not a dead one.
    assert probe[0] == "200 OK" and probe[2] == b"served"


def test_a_request_not_shed_is_served_and_measured():
    admission = Admission(threads=2, budget=0.25)
    app = AdmissionApp(inner, admission)
    assert call(app, "/fr/")[2] == b"served"
    assert admission.service_seconds < 0.01
    admission.queue()
    admission.queue()
    admission.service_seconds = 0.3
    # Two queued ahead, two threads, 0.3 s each: 0.3 s to wait.
    assert abs(admission.expected_wait() - 0.3) < 1e-9
    admission.start()
    assert admission.queued == 1


def drive(base_port: int, clients: int, requests: int) -> tuple[Counter, list[str], list[dict]]:
    """`clients` kept-alive connections, each sending `requests` requests one after the other."""
    statuses: Counter = Counter()
    failures: list[str] = []
    shed_answers: list[dict] = []
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", base_port, timeout=30)
        try:
            for _ in range(requests):
                connection.request(
                    "POST", "/api/v1/requests", body=b"{}", headers={"Content-Type": "application/json"}
                )
                answer = connection.getresponse()
                body = answer.read()
                with lock:
                    statuses[answer.status] += 1
                    if answer.status == 503:
                        shed_answers.append(
                            {"retry_after": answer.getheader("Retry-After"), **json.loads(body)}
                        )
        except OSError as error:
            with lock:
                failures.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses, failures, shed_answers


def start(budget_ms: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "ADMISSION_QUEUE_BUDGET_MS": budget_ms, "DEBUG": "1", "TESTING": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "tests.operations.slow_wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--worker-class",
            "guichet.operations.admission.AdmissionThreadWorker",
            "--threads",
            "2",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    return process, port


def overload(budget_ms: str, requests: int) -> tuple[Counter, list[str], list[dict]]:
    """12 clients against one worker of two threads, with this budget."""
    process, port = start(budget_ms)
    try:
        wait_ready(f"http://127.0.0.1:{port}", process)
        return drive(port, clients=12, requests=requests)
    finally:
        stop([process])


def test_under_overload_gunicorn_answers_503_with_retry_after_and_refuses_no_connection():
    statuses, failures, shed = overload("100", requests=4)
    assert failures == []
    assert sum(statuses.values()) == 48
    assert set(statuses) <= {200, 503}
    assert statuses[503] > 0 and statuses[200] > 0
    assert all(answer["retry_after"] == "2" and answer["code"] == "overloaded" for answer in shed)


def test_with_admission_off_the_same_load_queues_instead():
    statuses, failures, _shed = overload("0", requests=2)
    assert failures == []
    assert statuses == Counter({200: 24})
