"""Submitting and following one job with the retry rules that keep money safe. Used by the render queue and by
the single-clip CLI.

- submit: repeated only when the service said the job was not created (never pay twice);
- wait (follow an existing job): repeated on transient errors and rate limits, honouring Retry-After;
- a job that outlives the timeout is cancelled at the service and reported as a timeout.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Optional

from core.errors import ImageAIError, ProviderTimeoutError
from providers.base import ProgressCallback, RenderRequest, RenderResult, VideoProvider

log = logging.getLogger(__name__)

RetryCallback = Callable[[ImageAIError, int, float, str], None]


def backoff_delay(exc: ImageAIError, attempt: int) -> float:
    return exc.retry_after if exc.retry_after is not None else min(30.0, 1.0 * 2 ** (attempt - 1))


async def _with_retries(call: Callable[[], Awaitable], may_retry: Callable[[ImageAIError], bool], retries: int,
                        on_retry: Optional[RetryCallback], what: str):
    attempt = 0
    while True:
        try:
            return await call()
        except ImageAIError as exc:
            if not may_retry(exc) or attempt >= retries:
                raise
            attempt += 1
            delay = backoff_delay(exc, attempt)
            if on_retry is not None:
                on_retry(exc, attempt, delay, what)
            await asyncio.sleep(delay)


async def submit_job(provider: VideoProvider, request: RenderRequest, progress: ProgressCallback, *,
                     retries: int, on_retry: Optional[RetryCallback] = None) -> str:
    return await _with_retries(lambda: provider.submit(request, progress),
                               lambda exc: exc.retryable and exc.not_created, retries, on_retry, "submit")


async def follow_job(provider: VideoProvider, job_id: str, request: RenderRequest, progress: ProgressCallback, *,
                     retries: int, timeout_s: float, on_retry: Optional[RetryCallback] = None) -> RenderResult:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s

    async def one_wait() -> RenderResult:
        remaining = max(deadline - loop.time(), 0.001)
        try:
            return await asyncio.wait_for(provider.wait(job_id, request, progress), remaining)
        except asyncio.TimeoutError:
            await cancel_job(provider, job_id)
            raise ProviderTimeoutError(f"the job did not finish within {timeout_s:g} s; it was cancelled") from None

    return await _with_retries(one_wait, lambda exc: exc.retryable, retries, on_retry, "status")


async def cancel_job(provider: VideoProvider, job_id: Optional[str]) -> None:
    """Best-effort cancel at the service; never raises."""
    if not job_id:
        return
    try:
        await asyncio.wait_for(provider.cancel(job_id), 30)
    except (ImageAIError, asyncio.TimeoutError, OSError) as exc:
        log.warning("cancelling job %s failed: %s", job_id, exc)
