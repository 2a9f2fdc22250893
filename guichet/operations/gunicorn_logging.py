"""gunicorn's access and error logs as Guichet writes its own: JSON lines with the request id, no secrets.

gunicorn's default access line holds the request line, path and query as sent, so /fr/r/<ref>/<token>/ and
?token= would be written out in full; this logger writes the redacted path instead (and no referer, which
may hold a private link too). Used by `manage.py serve` (guichet/operations/gunicorn_conf.py).
"""

from __future__ import annotations

import os

from gunicorn import glogging

from .logs import JsonFormatter
from .redaction import RedactingFilter, redact


class Logger(glogging.Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        as_json = os.environ.get("LOG_FORMAT", "json") == "json"
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.addFilter(RedactingFilter())
                if as_json:
                    handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        query = environ.get("QUERY_STRING", "")
        path = redact(environ.get("PATH_INFO", "") + (f"?{query}" if query else ""))
        status = atoms.get("s", "-")
        fields = {
            "remote": atoms.get("h", "-"),
            "method": atoms.get("m", "-"),
            "path": path,
            "status": int(status) if str(status).isdigit() else status,
            "bytes": atoms.get("B"),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "user_agent": atoms.get("a", "-"),
        }
        request_id = atoms.get("{x-request-id}o", "-")
        try:
            self.access_log.info(
                "%s %s %s",
                fields["method"],
                path,
                status,
                extra={"fields": fields, "request_id": "" if request_id == "-" else request_id},
            )
        except Exception:
            self.exception("could not write the access log line")
