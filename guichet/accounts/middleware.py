"""Sessions of staff and partners end after a period without activity (STAFF_IDLE_TIMEOUT_SECONDS)."""

import time

from django.conf import settings
from django.contrib.auth import logout

LAST_SEEN_KEY = "guichet_last_seen"
# Writing the session on every request costs a database write; a resolution of a minute is plenty.
_RESOLUTION_SECONDS = 60


class IdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN_KEY)
            if last_seen is not None and now - int(last_seen) > settings.STAFF_IDLE_TIMEOUT_SECONDS:
                logout(request)
                request.session["guichet_session_expired"] = True
            elif last_seen is None or now - int(last_seen) >= _RESOLUTION_SECONDS:
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)
