"""The clamd path: a real clamd (started here with a signature of our own, no download) when it is
installed, and the protocol's edge cases against a small fake clamd on a Unix socket.

The real clamd test skips outside CI when clamd is missing; with REQUIRE_CLAMD=1 (CI) it must run.
"""

import os
import shutil
import socket
import struct
import subprocess
import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guichet.dossiers import scanning, services, uploads
from guichet.dossiers.models import Document
from guichet.errors import InvalidInput
from guichet.evidence.audit import APPLICANT

from . import helpers
from .conftest import stored_files

MARKER = b"GUICHET-TEST-VIRUS-MARKER"
CLAMD = shutil.which("clamd") or ("/usr/sbin/clamd" if os.path.exists("/usr/sbin/clamd") else None)


class FakeClamd:
    """Answers INSTREAM like clamd: FOUND when the marker is in the stream, else OK (or a given answer)."""

    def __init__(self, path, answer=None):
        self.path, self.answer, self.received = str(path), answer, []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(4)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _read(self, conn, count):
        data = b""
        while len(data) < count:
            part = conn.recv(count - len(data))
            if not part:
                raise ConnectionError
            data += part
        return data

    def _serve(self):
        while True:
            try:
                conn, _address = self.server.accept()
            except OSError:
                return
            with conn:
                assert self._read(conn, 10) == b"zINSTREAM\0"
                stream = b""
                while True:
                    (length,) = struct.unpack(">I", self._read(conn, 4))
                    if length == 0:
                        break
                    stream += self._read(conn, length)
                self.received.append(stream)
                answer = self.answer or (b"stream: Test.Marker FOUND" if MARKER in stream else b"stream: OK")
                conn.sendall(answer + b"\0")

    def close(self):
        self.server.close()


@pytest.fixture
def fake_clamd(settings, tmp_path):
    server = FakeClamd(tmp_path / "clamd.sock")
    settings.CLAMD_SOCKET = server.path
    yield server
    server.close()


def infected_pdf():
    """A valid PDF carrying the marker in its binary comment (PDFs are stored as given)."""
    return helpers.pdf_bytes().replace(b"%\xe2\xe3\xcf\xd3", b"%" + MARKER, 1)


def test_a_clean_file_is_scanned_then_stored(fake_clamd, filed):
    content = helpers.pdf_bytes()
    services.upload_document(filed, "doc-1", SimpleUploadedFile("a.pdf", content), APPLICANT)
    assert fake_clamd.received == [content]
    assert Document.objects.count() == 1


def test_an_infected_file_is_refused_and_nothing_stored(fake_clamd, filed, dossier_storage):
    with pytest.raises(InvalidInput, match="invalid") as refused:
        services.upload_document(filed, "doc-1", SimpleUploadedFile("a.pdf", infected_pdf()), APPLICANT)
    assert "virus" in refused.value.fields["doc-1"][0]
    assert not Document.objects.exists() and stored_files(dossier_storage) == []


def test_a_scanner_that_cannot_answer_refuses_the_file(settings, tmp_path, filed):
    settings.CLAMD_SOCKET = str(tmp_path / "nobody-listens.sock")
    with pytest.raises(InvalidInput) as refused:
        services.upload_document(filed, "doc-1", SimpleUploadedFile("a.pdf", helpers.pdf_bytes()), APPLICANT)
    assert "could not be checked" in refused.value.fields["doc-1"][0]
    assert not Document.objects.exists()


def test_a_scanner_error_is_not_taken_for_a_clean_file(settings, tmp_path):
    server = FakeClamd(tmp_path / "err.sock", answer=b"INSTREAM size limit exceeded. ERROR")
    settings.CLAMD_SOCKET = server.path
    try:
        with pytest.raises(uploads.Refused, match="could not be checked"):
            scanning.scan(helpers.pdf_bytes())
    finally:
        server.close()


@pytest.fixture
def real_clamd(settings, tmp_path):
    if CLAMD is None:
        if os.environ.get("REQUIRE_CLAMD") == "1":
            pytest.fail("REQUIRE_CLAMD=1 but clamd is not installed (apt-get install clamav-daemon)")
        pytest.skip("clamd is not installed (apt-get install clamav-daemon); CI installs it")
    database = tmp_path / "db"
    database.mkdir()
    # A signature of our own (ClamAV's .ndb format: name, any file type, any offset, hex bytes), so that
    # no signature download is needed.
    (database / "guichet.ndb").write_text(f"Guichet.Test.Marker:0:*:{MARKER.hex()}\n")
    sock = tmp_path / "clamd.sock"
    config = tmp_path / "clamd.conf"
    config.write_text(
        f"DatabaseDirectory {database}\nLocalSocket {sock}\nForeground yes\nTemporaryDirectory {tmp_path}\n"
        f"LogFile {tmp_path / 'clamd.log'}\n" + ("User root\n" if os.geteuid() == 0 else "")
    )
    process = subprocess.Popen(
        [CLAMD, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while not sock.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
        if not sock.exists():
            pytest.fail(f"clamd did not start: {(tmp_path / 'clamd.log').read_text(errors='replace')[-500:]}")
        settings.CLAMD_SOCKET = str(sock)
        yield sock
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_the_real_clamd_finds_the_marker_and_passes_a_clean_file(real_clamd, filed):
    assert scanning.clamd_verdict(helpers.pdf_bytes(), str(real_clamd), 20) == "stream: OK"
    assert scanning.clamd_verdict(infected_pdf(), str(real_clamd), 20).endswith("FOUND")
    with pytest.raises(InvalidInput):
        services.upload_document(filed, "doc-1", SimpleUploadedFile("a.pdf", infected_pdf()), APPLICANT)
    services.upload_document(filed, "doc-1", SimpleUploadedFile("a.pdf", helpers.pdf_bytes()), APPLICANT)
    assert Document.objects.count() == 1
