"""Virus scan through clamd's INSTREAM command, when CLAMD_SOCKET names its Unix socket.

The protocol (clamd(8)): send "zINSTREAM\\0", then the data in chunks, each preceded by its length as
4 bytes big-endian, then a zero length; clamd answers "stream: OK", "stream: <name> FOUND" or
"... ERROR", ended by NUL. When the scanner is configured but cannot answer, the upload is refused (and
may be tried again): an unscanned file never enters a dossier.
"""

from __future__ import annotations

import socket
import struct

from django.conf import settings
from django.utils.translation import gettext as _

from .uploads import Refused

CHUNK = 64 * 1024


class ScanUnavailable(Exception):
    pass


def clamd_verdict(content: bytes, path: str, timeout: float) -> str:
    """clamd's answer for these bytes, without the trailing NUL ("stream: OK", "stream: X FOUND"…)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(b"zINSTREAM\0")
            for start in range(0, len(content), CHUNK):
                chunk = content[start : start + CHUNK]
                sock.sendall(struct.pack(">I", len(chunk)) + chunk)
            sock.sendall(struct.pack(">I", 0))
            answer = b""
            while not answer.endswith(b"\0"):
                part = sock.recv(4096)
                if not part:
                    break
                answer += part
    except OSError as error:
        raise ScanUnavailable(str(error)) from error
    return answer.rstrip(b"\0").decode("utf-8", "replace").strip()


def scan(content: bytes) -> None:
    """Refuse the file if clamd finds something in it or cannot be asked; do nothing without CLAMD_SOCKET."""
    path = settings.CLAMD_SOCKET
    if not path:
        return
    try:
        verdict = clamd_verdict(content, path, settings.CLAMD_TIMEOUT_SECONDS)
    except ScanUnavailable:
        verdict = ""
    if verdict.endswith("FOUND"):
        raise Refused(
            _(
                "This file contains a virus and was not accepted. Scan the paper again on a clean "
                "computer, or bring it to the counter."
            )
        )
    if not verdict.endswith(": OK"):
        raise Refused(_("The file could not be checked for viruses just now. Try again in a few minutes."))
