"""Logs are JSON lines with the request id, and no private link or token ever reaches them: Django's own
warnings, Guichet's, and gunicorn's access and error lines."""

import datetime
import io
import json
import logging
import types

import pytest

from guichet.operations import gunicorn_logging, logs, redaction, request_id

TOKEN = "-".join(["Qm9uam91ciBsZSBtb25kZQ", "private_link"])  # what a private link carries
LINK = f"/fr/r/93-ABCD-EFGH/{TOKEN}/appointment/"


@pytest.mark.parametrize(
    "text",
    [
        LINK,
        f"GET {LINK} HTTP/1.1",
        f"/api/v1/requests/93-ABCD-EFGH?token={TOKEN}",
        f"/fr/verify/?key={TOKEN}&lang=fr",
        f"Not Found: /ar/r/93-ABCD-EFGH/{TOKEN}",
        f"https://guichet.example.org/fr/r/93-ABCD-EFGH/{TOKEN}/?x=1",
    ],
)
def test_redaction_removes_every_form_of_the_secret(text):
    cleaned = redaction.redact(text)
    assert TOKEN not in cleaned and redaction.REDACTED in cleaned


def test_redaction_keeps_the_reference_and_plain_addresses():
    assert redaction.redact(LINK) == "/fr/r/93-ABCD-EFGH/[redacted]/appointment/"
    assert redaction.redact("/fr/procedures/93/premiere-demande/") == "/fr/procedures/93/premiere-demande/"


def handler_with_settings_filters() -> tuple[logging.Handler, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RequestIdFilter())
    handler.addFilter(redaction.RedactingFilter())
    return handler, stream


def test_a_json_line_carries_the_request_id_and_no_token():
    handler, stream = handler_with_settings_filters()
    logger = logging.getLogger("guichet.test.logs")
    logger.addHandler(handler)
    token = request_id.current.set("req-12345678")
    try:
        logger.warning("Not Found: %s", LINK)
        try:
            raise ValueError(f"bad link {LINK}")
        except ValueError:
            logger.exception("failed on ?token=%s", TOKEN)
    finally:
        request_id.current.reset(token)
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["request_id"] for line in lines] == ["req-12345678", "req-12345678"]
    assert lines[0]["message"] == "Not Found: /fr/r/93-ABCD-EFGH/[redacted]/appointment/"
    assert lines[0]["level"] == "WARNING" and lines[0]["logger"] == "guichet.test.logs"
    assert "ValueError" in lines[1]["exception"]
    assert TOKEN not in stream.getvalue()


def test_the_settings_log_through_the_filters(settings):
    config = settings.LOGGING
    assert config["handlers"]["console"]["filters"] == ["request_id", "redact"]
    assert config["formatters"]["json"]["()"] == "guichet.operations.logs.JsonFormatter"


def test_a_request_id_reaches_the_log_lines_of_its_request(client, caplog, db):
    caplog.set_level(logging.WARNING, logger="django.request")
    handler, stream = handler_with_settings_filters()
    logging.getLogger("django.request").addHandler(handler)
    try:
        response = client.get(f"/fr/r/93-ABCD-EFGH/{TOKEN}/", headers={"X-Request-ID": "trace-0042abcd"})
    finally:
        logging.getLogger("django.request").removeHandler(handler)
    assert response.status_code == 404
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["request_id"] == "trace-0042abcd"
    assert TOKEN not in stream.getvalue()


def gunicorn_logger(stream: io.StringIO) -> gunicorn_logging.Logger:
    cfg = types.SimpleNamespace(
        accesslog="-",
        errorlog="-",
        loglevel="info",
        logconfig=None,
        logconfig_dict={},
        logconfig_json=None,
        syslog=False,
        disable_redirect_access_to_syslog=False,
        capture_output=False,
        access_log_format='%(h)s "%(r)s" %(s)s',
        user=0,
        group=0,
        syslog_addr=None,
        syslog_prefix=None,
        syslog_facility="user",
        dogstatsd_tags="",
        statsd_host=None,
    )
    logger = gunicorn_logging.Logger(cfg)
    for log in (logger.access_log, logger.error_log):
        for handler in log.handlers:
            handler.setStream(stream)
    return logger


def test_gunicorns_access_line_is_json_without_the_token():
    stream = io.StringIO()
    logger = gunicorn_logger(stream)
    response = types.SimpleNamespace(
        status="200 OK",
        status_code=200,
        sent=512,
        response_length=512,
        headers=[("X-Request-ID", "abcd1234efgh")],
    )
    request = types.SimpleNamespace(
        headers=[("USER-AGENT", "wrk"), ("REFERER", f"https://x.example{LINK}")],
        uri=f"{LINK}?token={TOKEN}",
        path=LINK,
        query=f"token={TOKEN}",
        method="GET",
        version=(1, 1),
    )
    environ = {
        "PATH_INFO": LINK,
        "QUERY_STRING": f"token={TOKEN}",
        "REQUEST_METHOD": "GET",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "RAW_URI": f"{LINK}?token={TOKEN}",
    }
    logger.access(response, request, environ, datetime.timedelta(milliseconds=12))
    logger.error("Error handling request %s", f"{LINK}?token={TOKEN}")
    text = stream.getvalue()
    assert TOKEN not in text
    access, error = (json.loads(line) for line in text.splitlines())
    assert access["path"] == "/fr/r/93-ABCD-EFGH/[redacted]/appointment/?token=[redacted]"
    assert (
        access["status"] == 200 and access["request_id"] == "abcd1234efgh" and access["duration_ms"] == 12.0
    )
    assert "[redacted]" in error["message"]
