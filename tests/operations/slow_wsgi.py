"""A WSGI application that takes its time, for tests/operations/test_admission.py (served by gunicorn).

Django is set up (the overload answer is translated and rendered by it) but no view or database is used:
each answer waits SLOW_SECONDS, as a filing does while PostgreSQL works, so a few clients overload it.
"""

import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guichet.settings")
django.setup()

SLOW_SECONDS = float(os.environ.get("SLOW_SECONDS", "0.2"))


def application(environ, start_response):
    time.sleep(SLOW_SECONDS)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
