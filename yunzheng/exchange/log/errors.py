"""The one error of log mode that the HTTP layer answers (503 with Retry-After)."""


class LogUnavailable(Exception):
    """The log did not acknowledge in time: nothing may be acknowledged; the caller retries later."""

    retry_after_seconds = 5
