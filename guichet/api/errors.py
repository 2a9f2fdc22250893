"""Structured errors: every failure is JSON with a stable `code`, a `message` for people, and `fields`."""

from django.db import DatabaseError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from guichet.errors import DomainError
from guichet.public import ratelimit


class ApiError(Exception):
    """Raised by API routes (or services' errors converted by them) to answer a structured error."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = str(message)
        self.fields = fields or {}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"code": code, "message": str(message), "fields": fields or {}}


def _validation_fields(errors: list[dict]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", []) if part not in ("body", "payload", "query", "path")]
        fields.setdefault(".".join(loc) or "__all__", []).append(str(error.get("msg", "invalid")))
    return fields


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(ApiError)
    def api_error(request, exc: ApiError):
        return api.create_response(request, error_body(exc.code, exc.message, exc.fields), status=exc.status)

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        return api.create_response(
            request,
            error_body("invalid", "Some fields are missing or invalid.", _validation_fields(exc.errors)),
            status=422,
        )

    @api.exception_handler(AuthenticationError)
    def authentication_error(request, exc):
        return api.create_response(
            request, error_body("unauthorised", "Authentication is required."), status=401
        )

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return api.create_response(request, error_body("not_found", "Not found."), status=404)

    @api.exception_handler(DatabaseError)
    def database_error(request, exc: DatabaseError):
        # Up to guichet.retrying's middleware, which runs a deadlock's loser again (also under DEBUG,
        # where django-ninja would otherwise answer the traceback itself).
        raise exc

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        return api.create_response(request, error_body("http_error", str(exc)), status=exc.status_code)


def install_domain_error_handler(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        fields = {name: [str(m) for m in messages] for name, messages in exc.fields.items()}
        return api.create_response(request, error_body(exc.code, exc.message, fields), status=exc.status)


def install_rate_limit_handler(api: NinjaAPI) -> None:
    """The public pages' limits apply to the API alike: 429, the same words, and when to try again."""

    @api.exception_handler(ratelimit.RateLimited)
    def rate_limited(request, exc: ratelimit.RateLimited):
        response = api.create_response(
            request, error_body("rate_limited", exc.explained or ratelimit.explain(exc)), status=429
        )
        response["Retry-After"] = str(exc.retry_after)
        return response
