"""The application's routes plus trivial views, the baselines of bench/load.py and bench/intake.py.

Served only when a benchmark starts the stack with ROOT_URLCONF=bench.trivial_urls; the views answer at once
behind the same middleware (sessions, CSRF exempt for the POST as the API is, CSP, locale).
"""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from guichet.urls import urlpatterns as application


def trivial_get(request):
    return HttpResponse(b"ok", content_type="text/plain")


@csrf_exempt
def trivial_post(request):
    # Read the body as the API does, so that the baseline pays for receiving it.
    return HttpResponse(str(len(request.body)).encode(), content_type="text/plain", status=201)


urlpatterns = [path("trivial", trivial_post), path("trivial/get", trivial_get), *application]
