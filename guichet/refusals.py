"""The answer to a request refused before or around its view: the API's structured error, or a page.

Used by the edge checks (guichet/edge.py) and the retry of transactions (guichet/retry_middleware.py),
which run outside the views and so outside the API's exception handlers.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse

from guichet.api.errors import error_body
from guichet.errors import DomainError

API_PREFIX = "/api/"


def refusal_response(
    request: HttpRequest, error: DomainError, *, retry_after: int | None = None
) -> HttpResponse:
    if request.path_info.startswith(API_PREFIX):
        response: HttpResponse = JsonResponse(error_body(error.code, error.message), status=error.status)
    else:
        response = TemplateResponse(request, "refused.html", {"message": error.message}, status=error.status)
        response.render()
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response
