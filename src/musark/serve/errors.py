"""Subsonic error codes, raised by handlers and rendered in an HTTP 200 body as clients expect."""

from __future__ import annotations

GENERIC = 0
MISSING_PARAMETER = 10
WRONG_CREDENTIALS = 40
TOKEN_NOT_SUPPORTED = 41
AUTH_MECHANISM_NOT_SUPPORTED = 42
CONFLICTING_AUTH = 43
INVALID_API_KEY = 44
NOT_AUTHORIZED = 50
NOT_FOUND = 70


class ApiError(Exception):
    """A Subsonic error: ``code`` from the table above and a message naming the cause."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def missing(name: str) -> ApiError:
    """Error 10 for a required parameter that is absent or empty."""
    return ApiError(MISSING_PARAMETER, f"Required parameter is missing: {name}")


def not_found(what: str, value: str) -> ApiError:
    """Error 70 naming the kind of object and the id that was not found."""
    return ApiError(NOT_FOUND, f"{what} not found: {value}")


def bad_value(name: str, value: str, why: str) -> ApiError:
    """Error 0 for a parameter that is present but unusable."""
    return ApiError(GENERIC, f"Invalid value for parameter {name}: {value!r} ({why})")
