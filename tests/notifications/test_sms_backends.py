"""SMS backends: a file per SMS in development; a generic HTTP gateway that raises on any failure."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from guichet.notifications.sms import FileBackend, HttpGatewayBackend, SmsError, get_backend, sms_length


class Gateway(BaseHTTPRequestHandler):
    answers: list[int] = []
    received: list[tuple[dict, dict]] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Gateway.received.append((dict(self.headers), body))
        status = Gateway.answers.pop(0) if Gateway.answers else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"id": "gw-1"} if status < 300 else {"error": "busy"}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    Gateway.answers, Gateway.received = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sms"
    server.shutdown()
    server.server_close()


def test_http_gateway_posts_json_with_the_api_key(gateway, settings):
    settings.SMS_BACKEND = "guichet.notifications.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = gateway
    settings.SMS_GATEWAY_KEY = "k-123"
    assert get_backend().send("+33612345678", "RDV confirmé") == "gw-1"
    [(headers, body)] = Gateway.received
    assert headers["X-Api-Key"] == "k-123" and headers["Content-Type"] == "application/json"
    assert body == {"to": "+33612345678", "text": "RDV confirmé", "sender": "Guichet"}


@pytest.mark.parametrize("status", [400, 500, 503])
def test_http_gateway_raises_when_the_gateway_refuses(gateway, status):
    Gateway.answers = [status]
    with pytest.raises(SmsError, match=f"gateway answered {status}"):
        HttpGatewayBackend(url=gateway, key="k").send("+33612345678", "x")


def test_http_gateway_raises_when_unreachable():
    with pytest.raises(SmsError, match="unreachable"):
        HttpGatewayBackend(url="http://127.0.0.1:9/sms", key="k", timeout=2).send("+33612345678", "x")


def test_http_gateway_needs_its_url(settings):
    settings.SMS_GATEWAY_URL = ""
    with pytest.raises(SmsError):
        HttpGatewayBackend()


def test_file_backend_writes_one_file_per_sms(tmp_path, settings):
    settings.SMS_FILE_PATH = tmp_path
    FileBackend().send("+33612345678", "Bonjour")
    [written] = tmp_path.iterdir()
    assert written.read_text() == "To: +33612345678\n\nBonjour\n"


def test_sms_length_counts_like_the_network():
    assert sms_length("é" * 160).segments == 1  # é is in the GSM alphabet
    assert sms_length("a" * 161).segments == 2
    assert sms_length("€" * 80).units == 160  # extended characters count twice
    assert sms_length("ê").encoding == "UCS-2"  # ê is not
    assert sms_length("م" * 70).segments == 1
    assert sms_length("م" * 71).segments == 2
