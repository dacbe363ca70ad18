"""The one retry and timeout policy of image requests.

Image services answer synchronously and give no job id: there is nothing to poll, resume or cancel at the service,
and the only way to "retry" is to send the request again, which may pay for a second image. So a request is sent
again only when
- the provider charges nothing (local-sd) and the error is retryable (its worker died), or
- the error is retryable and its answer proves no work was done (`not_created`): a 429 (rate limited: after its
  Retry-After), a 503 (overloaded), a connection that never opened.
A timeout, a dropped connection or a 500/502/504 after the request went out may have made (and charged) the image:
it ends the request with the typed error, which says so; the user decides whether to send it again.

One deadline covers each request with its retries; past it the request ends with ProviderTimeoutError (the client
hangs up; the service may still finish and charge it). Requests run one after another; when one fails the images
already written stay, listed on the error as `partial`.
"""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Optional

from core.errors import ImageAIError, ProviderTimeoutError
from core.images.contract import ImageCall, ImagePlan, ImageResult, ProgressCallback, ProgressEvent, RetryCallback
from core.render.retry import backoff_delay

if TYPE_CHECKING:
    from core.images.contract import ImageProvider

log = logging.getLogger(__name__)


def may_resend(provider: "ImageProvider", exc: ImageAIError) -> bool:
    return exc.retryable and (exc.not_created or not provider.charges)


async def run_call(provider: "ImageProvider", plan: ImagePlan, call: ImageCall, progress: ProgressCallback, *,
                   retries: int, timeout_s: Optional[float], on_retry: Optional[RetryCallback]) -> list[ImageResult]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s if timeout_s else None
    attempt = 0
    while True:
        try:
            coro = provider.generate_call(plan, call, progress)
            if deadline is None:
                return await coro
            remaining = deadline - loop.time()
            if remaining <= 0:
                coro.close()
                raise asyncio.TimeoutError
            return await asyncio.wait_for(coro, remaining)
        except asyncio.TimeoutError:
            raise ProviderTimeoutError(
                f"{plan.model}: no image within {timeout_s:g} s; the request was abandoned (the service may still "
                "finish it and charge it), so it is not sent again on its own") from None
        except ImageAIError as exc:
            if not may_resend(provider, exc) or attempt >= retries:
                raise
            attempt += 1
            delay = backoff_delay(exc, attempt)
            if deadline is not None and loop.time() + delay >= deadline:
                raise
            if on_retry is not None:
                on_retry(exc, attempt, delay, f"image {call.index + 1}")
            await asyncio.sleep(delay)


async def run_plan(provider: "ImageProvider", plan: ImagePlan, progress: ProgressCallback, *, retries: int = 0,
                   timeout_s: Optional[float] = None,
                   on_retry: Optional[RetryCallback] = None) -> list[ImageResult]:
    results: list[ImageResult] = []
    total = len(plan.calls)
    for call in plan.calls:
        progress(ProgressEvent(stage="running", fraction=call.index / total,
                               message=f"request {call.index + 1} of {total} to {plan.model}"))
        try:
            results += await run_call(provider, plan, call, progress, retries=retries, timeout_s=timeout_s,
                                      on_retry=on_retry)
        except ImageAIError as exc:
            exc.partial = list(results)  # type: ignore[attr-defined]  # the images made before this request
            raise
    progress(ProgressEvent(stage="done", fraction=1.0, message=", ".join(str(r.path) for r in results)))
    return results
