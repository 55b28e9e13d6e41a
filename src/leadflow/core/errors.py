"""One domain error base: every error a user can cause carries its HTTP status and a message."""


class LeadflowError(Exception):
    """Base of every error leadflow reports to a user; never shown as a traceback."""

    status_code = 400

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        # (field, reason) pairs when several things are wrong at once
        self.field_problems = problems or []


class NotFound(LeadflowError):
    """The thing asked for does not exist."""

    status_code = 404


class Conflict(LeadflowError):
    """The request does not fit the current state (e.g. closing a lead that is no opportunity)."""

    status_code = 409


class Invalid(LeadflowError):
    """The input is malformed; the message names what and where."""

    status_code = 422


class Forbidden(LeadflowError):
    """The caller is known but may not see or change this."""

    status_code = 403
