"""One error hierarchy for the portal, mapped to pages, htmx fragments and RFC 9457 problem details."""

from __future__ import annotations


class PortalError(Exception):
    """Base of every error the portal raises on purpose; ``message`` is already translated."""

    status_code = 400
    title = "Bad request"

    def __init__(self, message: str = "", *, detail: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or {}


class NotFound(PortalError):
    """Also used for another tenant's objects: their existence is not revealed."""

    status_code = 404
    title = "Not found"


class Forbidden(PortalError):
    status_code = 403
    title = "Forbidden"


class NotSignedIn(PortalError):
    status_code = 401
    title = "Not signed in"


class Conflict(PortalError):
    status_code = 409
    title = "Conflict"


class TooManyAttempts(PortalError):
    status_code = 429
    title = "Too many attempts"


class ValidationFailed(PortalError):
    """Bad form or API input; ``errors`` maps field names to translated messages."""

    status_code = 422
    title = "Invalid input"

    def __init__(self, errors: dict[str, str], message: str = "") -> None:
        super().__init__(message or next(iter(errors.values()), ""))
        self.errors = errors
