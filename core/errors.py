"""The one typed error set every provider raises and every caller catches.

It lives in core (no Qt, no SDK) so the render queue, the CLI and the GUI can handle errors without importing any
provider; providers/base.py re-exports it as the provider contract.
"""
from __future__ import annotations

from typing import Iterable


class ImageAIError(Exception):
    """Base of every error the app shows to a person. `str(err)` is the message to show."""

    #: short machine-readable kind, used in project files and --json output
    kind = "error"
    #: exit code of the CLI when this error ends a command
    exit_code = 1
    #: whether the render queue may try the same call again after a pause
    retryable = False

    def __init__(self, message: str, *, retry_after: float | None = None, not_created: bool = False):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        # True when the service said the job was NOT created, so a submit may be repeated without paying twice
        self.not_created = not_created


class InvalidRequestError(ImageAIError):
    """Bad input. Names the field and the values that are allowed."""

    kind = "invalid_request"
    exit_code = 2

    def __init__(self, message: str, *, field: str | None = None, allowed: Iterable[object] | None = None,
                 not_created: bool = True):
        self.field = field
        self.allowed = [str(a) for a in allowed] if allowed is not None else None
        text = message
        if field and not message.startswith(field):
            text = f"{field}: {message}"
        if self.allowed:
            text += f" (allowed: {', '.join(self.allowed)})"
        super().__init__(text, not_created=not_created)


def invalid_requests(problems: "list[InvalidRequestError]") -> InvalidRequestError:
    """One error that lists every problem of a request (each names its field and what is allowed)."""
    if len(problems) == 1:
        return problems[0]
    err = InvalidRequestError(f"{len(problems)} problems: " + "; ".join(str(p) for p in problems))
    err.field = problems[0].field
    err.problems = list(problems)
    return err


class AuthError(ImageAIError):
    kind = "auth"
    exit_code = 3


class PaymentError(ImageAIError):
    """Out of credit or over a quota that waiting does not fix."""

    kind = "payment"
    exit_code = 3


class RateLimitedError(ImageAIError):
    kind = "rate_limited"
    retryable = True


class ContentRejectedError(ImageAIError):
    kind = "content_rejected"


class ProviderTimeoutError(ImageAIError):
    kind = "timeout"


class TransientError(ImageAIError):
    """A 5xx, a dropped connection, malformed reply: worth another try."""

    kind = "transient"
    retryable = True


class UnavailableError(ImageAIError):
    """Missing SDK, key, GPU or server: the provider cannot run here."""

    kind = "unavailable"
    exit_code = 3


class ProjectLockedError(UnavailableError):
    """Another process holds the project's write or render lock; the message names it (pid, command, host, since)."""

    kind = "project_locked"
    exit_code = 3


class CancelledError(ImageAIError):
    kind = "cancelled"


class ProjectFileError(ImageAIError):
    """A project file that cannot be loaded; names the file and the field."""

    kind = "project_file"
    exit_code = 2


class BadOutputError(ImageAIError):
    """A delivered result that is not what was asked for: a clip that does not decode in full, of the wrong length,
    size or type, or a download over its size cap. Fetching the same result again gives the same bytes, so it is
    not retryable; the job was created (and paid)."""

    kind = "bad_output"

    def __init__(self, message: str, *, path: object = None, problems: "list[str] | None" = None,
                 field: str | None = None):
        super().__init__(message)
        self.path = path
        self.field = field  # the result field that held the bad value (e.g. "video.url"), when one did
        self.problems = list(problems) if problems else [message]



# kind -> class: turns an error that crossed a process boundary (the local worker) back into its type
ERROR_KINDS = {cls.kind: cls for cls in (
    ImageAIError, InvalidRequestError, AuthError, PaymentError, RateLimitedError, ContentRejectedError,
    ProviderTimeoutError, TransientError, UnavailableError, CancelledError, ProjectFileError,
    ProjectLockedError, BadOutputError)}
