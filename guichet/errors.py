"""Domain errors: what a service refuses, with a stable code for the API and a translated message for people.

Views show `message` as it is; API routes answer {code, message, fields} with `status`.
"""


class DomainError(Exception):
    status = 400

    def __init__(
        self, code: str, message, fields: dict[str, list[str]] | None = None, status: int | None = None
    ):
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.fields = fields or {}
        if status is not None:
            self.status = status


class InvalidInput(DomainError):
    """Some fields are missing or wrong; `fields` says which and why."""

    status = 422


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    """The action does not fit the current state (offer already answered, slot taken…)."""

    status = 409


class Forbidden(DomainError):
    status = 403
