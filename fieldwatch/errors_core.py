"""Domain errors that services raise and every face turns into a message."""

from __future__ import annotations


class FieldwatchError(Exception):
    """Base for errors that carry a user-facing message."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class ValidationError(FieldwatchError):
    """Values that are well-formed but not acceptable (HTTP 422)."""

    status = 422
    code = "invalid"


class NotFound(FieldwatchError):
    status = 404
    code = "not_found"


class Forbidden(FieldwatchError):
    status = 403
    code = "forbidden"


class Conflict(FieldwatchError):
    """The request conflicts with the current state (HTTP 409)."""

    status = 409
    code = "conflict"


class SetupError(FieldwatchError):
    """Something the machine lacks; the message says what to install or set."""

    status = 500
    code = "setup"
