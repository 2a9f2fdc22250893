"""/healthz, /readyz and /metrics: what a load balancer and a Prometheus scraper read, and nobody else."""

import secrets

import pytest
from django.core.cache import cache

from guichet.notifications.models import OutboxMessage
from guichet.operations import health
from tests.waitlist.intake_helpers import catalogue, file

pytestmark = pytest.mark.django_db

SCRAPER = secrets.token_urlsafe(16)


def test_healthz_says_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_readyz_checks_database_cache_and_task_queue_and_gives_the_backlogs(client):
    world = catalogue("93")
    file(world)
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"database": "ok", "cache": "ok", "task_queue": "ok", "outbox": "ok"}
    assert body["outbox_backlog"] == OutboxMessage.objects.filter(status="pending").count() >= 1
    assert body["task_backlog"] == 0


def test_readyz_answers_503_when_the_cache_does_not(client, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(cache, "set", down)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "failed: ConnectionError"
    assert response.json()["checks"]["database"] == "ok"


def test_readyz_answers_503_when_the_database_does_not(client, monkeypatch):
    def down():
        raise OSError("connection refused")

    monkeypatch.setattr(health, "_database", down)
    body = client.get("/readyz").json()
    assert body["status"] == "not ready"
    assert body["checks"]["task_queue"] == "failed: no database" and body["outbox_backlog"] is None


def test_metrics_do_not_exist_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_scrapers_token(client, settings):
    settings.METRICS_TOKEN = SCRAPER
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_metrics_give_requests_by_route_and_the_queue(client, settings):
    settings.METRICS_TOKEN = SCRAPER
    world = catalogue("93")
    file(world)
    file(world, family_names="Second")
    client.get("/healthz")
    response = client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPER}"})
    assert response.status_code == 200
    text = response.content.decode()
    assert 'guichet_http_requests_total{method="GET",route="operations:healthz",status="200"}' in text
    assert "guichet_http_request_duration_seconds_bucket" in text
    first = world.procedures["first"].code
    assert f'guichet_queue_requests{{prefecture="93",procedure="{first}",status="waiting"}} 2.0' in text
    assert "guichet_offers_pending" in text and "guichet_requests_late" in text
    assert 'guichet_outbox_backlog{channel="email"}' in text
    assert "guichet_task_backlog 0.0" in text


def test_every_response_carries_a_request_id(client):
    response = client.get("/healthz")
    assert len(response["X-Request-ID"]) == 32
    given = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a9c21"})
    assert given["X-Request-ID"] == "lb-7f3a9c21"
    forged = client.get("/healthz", headers={"X-Request-ID": "x\nforged log line"})
    assert forged["X-Request-ID"] != "x\nforged log line" and len(forged["X-Request-ID"]) == 32
