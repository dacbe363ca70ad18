"""The one retry and timeout policy of a render. Backends raise typed errors and never loop on errors themselves;
this module decides what is tried again:

- submit: repeated only when the service said the job was not created (`not_created`), after a backoff or the
  service's Retry-After (never pay twice). fal-client already retries a 429 / ingress error of its own POST once
  the job is known not to exist, and Replicate's client never retries a POST: those attempts are not counted here;
- wait (follow an existing job, which costs nothing): repeated on retryable errors (transient, rate limited) with
  backoff; the count starts again whenever the job reports progress it had not reported before, so a long render
  survives sporadic failed polls but a service that stays down, or a finished job whose download keeps failing
  (its logs replayed on every try are no news), ends the take after `retries` tries in a row;
- one deadline covers the whole wait, retries included; past it the remote job is cancelled (timeout).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Optional

from core.errors import ImageAIError, ProviderTimeoutError
from core.render.contract import ProgressCallback, ProgressEvent, RenderPlan, RenderResult, VideoProvider

log = logging.getLogger(__name__)

RetryCallback = Callable[[ImageAIError, int, float, str], None]
MAX_DELAY_S = 30.0


def backoff_delay(exc: ImageAIError, attempt: int) -> float:
    return exc.retry_after if exc.retry_after is not None else min(MAX_DELAY_S, 1.0 * 2 ** (attempt - 1))


class _Attempts:
    def __init__(self) -> None:
        self.count = 0


async def _with_retries(call: Callable[[], Awaitable], may_retry: Callable[[ImageAIError], bool], retries: int,
                        on_retry: Optional[RetryCallback], what: str, attempts: Optional[_Attempts] = None):
    attempts = attempts or _Attempts()
    while True:
        try:
            return await call()
        except ImageAIError as exc:
            if not may_retry(exc) or attempts.count >= retries:
                raise
            attempts.count += 1
            delay = backoff_delay(exc, attempts.count)
            if on_retry is not None:
                on_retry(exc, attempts.count, delay, what)
            await asyncio.sleep(delay)


async def submit_job(provider: VideoProvider, plan: RenderPlan, progress: ProgressCallback, *,
                     retries: int, on_retry: Optional[RetryCallback] = None) -> str:
    return await _with_retries(lambda: provider.submit(plan, progress),
                               lambda exc: exc.retryable and exc.not_created, retries, on_retry, "submit")


async def follow_job(provider: VideoProvider, job_id: str, plan: RenderPlan, progress: ProgressCallback, *,
                     retries: int, timeout_s: float, on_retry: Optional[RetryCallback] = None) -> RenderResult:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    attempts = _Attempts()
    seen: set[tuple] = set()

    def alive(event: ProgressEvent) -> None:
        # news from the job (not a replay: each new wait of a finished job reports its logs again) means earlier
        # failed polls were passing trouble
        key = (event.stage, event.message, event.fraction, event.queue_position)
        if key not in seen:
            seen.add(key)
            attempts.count = 0
        progress(event)

    async def one_wait() -> RenderResult:
        remaining = max(deadline - loop.time(), 0.001)
        try:
            return await asyncio.wait_for(provider.wait(job_id, plan, alive), remaining)
        except asyncio.TimeoutError:
            await cancel_job(provider, job_id, plan)
            raise ProviderTimeoutError(f"the job did not finish within {timeout_s:g} s; it was cancelled") from None

    return await _with_retries(one_wait, lambda exc: exc.retryable, retries, on_retry, "status", attempts)


async def cancel_job(provider: VideoProvider, job_id: Optional[str], plan: Optional[RenderPlan] = None) -> None:
    """Best-effort cancel at the service; never raises."""
    if not job_id:
        return
    try:
        await asyncio.wait_for(provider.cancel(job_id, plan), 30)
    except (ImageAIError, asyncio.TimeoutError, OSError) as exc:
        log.warning("cancelling job %s failed: %s", job_id, exc)
