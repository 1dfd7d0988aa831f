"""One error hierarchy for the whole platform; APIs and pages render it in one shape."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise


@dataclass
class ErrorDetail:
    """One problem with one input field: which field, which rule, a human message."""

    field: str
    code: str
    message: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


class DomainError(Exception):
    """Base of every expected, user-caused error. `code` is stable and documented."""

    status_code = 400

    def __init__(
        self, code: str, message: str | Promise, *, details: list[ErrorDetail] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = str(message)
        self.details = details or []


class ValidationFailed(DomainError):
    status_code = 422

    @classmethod
    def single(cls, *, field: str, code: str, message: str | Promise, **params: Any) -> ValidationFailed:
        return cls(
            code, message, details=[ErrorDetail(field=field, code=code, message=str(message), params=params)]
        )


class NotAuthenticated(DomainError):
    status_code = 401


class PermissionDenied(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    """The request is valid but clashes with the current state (e.g. a case already accepted)."""

    status_code = 409


class RateLimited(DomainError):
    status_code = 429

    def __init__(self, code: str, message: str | Promise, *, retry_after_seconds: int) -> None:
        super().__init__(code, message)
        self.retry_after_seconds = retry_after_seconds
