"""Prometheus metrics (GET /metrics, for the scraper only: see views.metrics).

Per process, in the middleware: requests by route (the URL pattern's name, never the address: private links
carry a token) and their duration. With several worker processes (gunicorn), prometheus_client's
multiprocess mode adds them up: PROMETHEUS_MULTIPROC_DIR names a directory each process writes to
(`manage.py serve` sets it and marks dead workers, guichet/operations/gunicorn_conf.py).

Read from the database at each scrape: the queue (requests by prefecture, procedure and status), pending
offers, late requests (due date passed while still waiting), the outbox and the task backlog; with a
replica (guichet/replica.py), the queue's counts are read there and its lag is a gauge of its own.
"""

from __future__ import annotations

import os
import time

from django.db import DatabaseError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from guichet import replica
from guichet.appointments.models import Offer, OfferStatus
from guichet.notifications.models import MessageStatus, OutboxMessage
from guichet.replica import reads_replica
from guichet.waitlist.models import ACTIVE_STATUSES, AppointmentRequest, RequestStatus

from .health import _task_backlog

REQUESTS = Counter(
    "guichet_http_requests",
    "HTTP requests answered, by route, method and status",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "guichet_http_request_duration_seconds",
    "Time to answer an HTTP request, by route",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WAITING_STATUSES = (RequestStatus.WAITING, RequestStatus.OFFERED, RequestStatus.PAUSED)


def route_of(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None and match.view_name else "unmatched"


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route, method = route_of(request), request.method or ""
        REQUESTS.labels(route, method, str(response.status_code)).inc()
        LATENCY.labels(route, method).observe(time.perf_counter() - started)
        return response


def _gauge(name: str, documentation: str, labels: list[str], counts) -> GaugeMetricFamily:
    """A gauge with one sample per row of (label values…, count) rows."""
    gauge = GaugeMetricFamily(name, documentation, labels=labels)
    for *values, count in counts:
        gauge.add_metric([str(value) for value in values], count)
    return gauge


def _counted(queryset, *fields: str):
    return queryset.values_list(*fields).annotate(n=Count("id")).order_by()


class QueueCollector:
    """The figures read from the database at each scrape."""

    def collect(self):
        yield from _queue_gauges()
        outbox = OutboxMessage.objects.filter(status=MessageStatus.PENDING)
        yield _gauge(
            "guichet_outbox_backlog", "Messages waiting to be sent", ["channel"], _counted(outbox, "channel")
        )
        yield GaugeMetricFamily(
            "guichet_task_backlog", "Background tasks waiting to run", value=_task_backlog()
        )
        if replica.configured():
            yield _replica_lag()


@reads_replica
def _queue_gauges() -> list[GaugeMetricFamily]:
    """The queue's counts, read from the replica when there is one (the backlogs are the primary's own)."""
    active = AppointmentRequest.objects.filter(status__in=ACTIVE_STATUSES)
    late = AppointmentRequest.objects.filter(status__in=WAITING_STATUSES, due_date__lt=timezone.localdate())
    pending = Offer.objects.filter(status=OfferStatus.PENDING)
    return [
        _gauge(
            "guichet_queue_requests",
            "Active requests by prefecture, procedure and status",
            ["prefecture", "procedure", "status"],
            _counted(active, "prefecture__code", "procedure__code", "status"),
        ),
        _gauge(
            "guichet_requests_late",
            "Requests still waiting after their due date",
            ["prefecture"],
            _counted(late, "prefecture__code"),
        ),
        _gauge(
            "guichet_offers_pending",
            "Offers awaiting an answer",
            ["prefecture"],
            _counted(pending, "request__prefecture__code"),
        ),
    ]


def _replica_lag() -> GaugeMetricFamily:
    try:
        lag = replica.replica_lag()
    except DatabaseError:
        lag = float("nan")
    return GaugeMetricFamily(
        "guichet_replica_lag_seconds",
        "How far the figures' replica is behind the primary (NaN: unreachable or not a standby)",
        value=lag,
    )


def exposition() -> bytes:
    """Everything in Prometheus' text format: the request metrics (of every worker process) and the queue."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
        requests = generate_latest(processes)
    else:
        requests = generate_latest(REGISTRY)
    database = CollectorRegistry()
    database.register(QueueCollector())
    return requests + generate_latest(database)
