"""How a take ends when its render raised: the one place that decides, so no error leaves a take "running" or a paid
job forgotten.

- the job finished at the service (its result was being fetched or checked): the take fails, is charged (the
  service billed it whatever the clip's fate) and is fetched again by its id on the next render (a result that
  keeps failing its check is rendered anew only with --pay-again); a result the service no longer has asks for
  --pay-again;
- the job exists but its state is unknown (the service could not be reached, the key or the clips folder broke,
  project.json could not be written, a bug): the take stays "submitted" and the next render follows the job;
- anything else (the service refused or failed the job, a timeout cancelled it, nothing was submitted): failed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from core.errors import ImageAIError
from core.redaction import redact
from core.video.project import Take

#: kinds that say nothing about the job itself: it is followed again next time
STATE_UNKNOWN_KINDS = frozenset({"rate_limited", "auth", "unavailable", "project_locked", "internal",
                                 "save_failed"})


class SaveFailed(ImageAIError):
    """project.json could not be written. With a job id the take went to the journal (the message says where)."""

    kind = "save_failed"

    def __init__(self, message: str, *, job_id: Optional[str] = None):
        super().__init__(message)
        self.job_id = job_id


@dataclass
class Ending:
    status: str             # the take's new status
    kind: str               # error_kind
    message: str            # error (redacted)
    refetch: bool = False
    result_gone: bool = False
    charged: bool = False   # the service charged for the job: it goes into the ledger


def describe(exc: BaseException) -> tuple[str, str]:
    """(message, kind) of any exception; one line, no secrets."""
    if isinstance(exc, ImageAIError):
        return redact(str(exc)), exc.kind
    return redact(f"{type(exc).__name__}: {exc}"), "internal"


def _connection_trouble(exc: BaseException) -> bool:
    """Whether the error (or what caused it) is a connection or timeout problem: the service's answer is unknown.
    Checked by type name as well, so core needs no HTTP client."""
    seen = 0
    cause: Optional[BaseException] = exc
    while cause is not None and seen < 8:
        if isinstance(cause, (ConnectionError, TimeoutError)) or \
                type(cause).__module__.split(".")[0] in ("httpx", "httpcore", "aiohttp"):
            return True
        cause, seen = cause.__cause__ or cause.__context__, seen + 1
    return False


def state_unknown(exc: BaseException) -> bool:
    """True when an error during the wait says nothing about the job (it may still run, or be done)."""
    if getattr(exc, "job_failed", False):
        return False  # the service said the job failed
    if getattr(exc, "local", False):
        return True   # a problem on this machine (the clips folder), not the job's
    if not isinstance(exc, ImageAIError):
        return True
    if exc.kind in STATE_UNKNOWN_KINDS or exc.retryable:
        return True
    return exc.kind == "transient" and _connection_trouble(exc)


def ending(take: Take, exc: BaseException, *, finished: bool) -> Ending:
    """The end of `take` after `exc`. `finished`: the job is known to have finished at the service."""
    message, kind = describe(exc)
    job = take.remote_job_id
    if isinstance(exc, SaveFailed):  # its take is in the journal with the state it had: the next render goes on
        return Ending(take.status if job else "failed", kind, message)
    if job and (finished or getattr(exc, "job_finished", False)):
        if getattr(exc, "result_gone", False):
            return Ending("failed", kind, f"{message}; job {job} finished but the service no longer has its "
                          f"result: render again (and pay again) with --pay-again", result_gone=True, charged=True)
        hint = "; if it stays unusable, render it anew (and pay again) with --pay-again" \
            if kind == "bad_output" else ""
        return Ending("failed", kind, f"{message}; job {job} finished at the service: the next render fetches it "
                      f"again (nothing is paid again){hint}", refetch=True, charged=True)
    if job and state_unknown(exc):
        return Ending("submitted", kind, f"{message}; job {job} is followed again on the next render (nothing is "
                      f"paid again)")
    return Ending("failed", kind, message)
