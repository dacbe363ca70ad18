"""Image services' failures -> the typed error set (core/errors.py), shared by the three cloud providers.

`not_created` says the answer proves the service did no work, so sending the request again cannot pay twice:
every 4xx (the service refused it), a 503/529 (overloaded: turned away before any work) and a connection that never
opened. A 500/502/504, a timeout or a connection dropped after the request went out may have made and charged the
image: not_created=False, and the retry policy (core/images/retry.py) never re-sends those.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Optional

from core.errors import (AuthError, BadOutputError, ContentRejectedError, ImageAIError, InvalidRequestError,
                         PaymentError, ProviderTimeoutError, RateLimitedError, TransientError)
from core.secrets import redact

CONTENT_WORDS = ("content_policy", "content policy", "moderation", "safety", "flagged", "blocked", "prohibited",
                 "content_filtered", "not allowed by our", "sensitive")
# a 429 that waiting does not fix; one that says when to come back (Retry-After, RetryInfo) is a rate limit
PAYMENT_WORDS = ("insufficient_quota", "billing", "credits", "payment", "balance", "per day", "prepayment")
MAY_HAVE_RUN = "; it may have made (and charged) the image, so it is not sent again on its own"


def retry_after_of(headers: Any) -> Optional[float]:
    value = headers.get("retry-after") if headers is not None and hasattr(headers, "get") else None
    if value and re.fullmatch(r"\s*\d+(\.\d+)?\s*", str(value)):
        return float(value)
    return None


def classify(label: str, status: int, message: str, *, code: str = "", field: Optional[str] = None,
             allowed: Optional[Iterable[str]] = None, retry_after: Optional[float] = None) -> ImageAIError:
    """Typed error for one HTTP error answer. `label` names the service ("OpenAI"), `code` the service's error code."""
    message = redact(message or "")[:500]
    text = f"{label}: {message or f'HTTP {status}'}"
    low = f"{code} {message}".lower()
    if status in (401, 403) and not any(w in low for w in CONTENT_WORDS):
        return AuthError(f"{text} (check the {label} API key)", not_created=True)
    if status == 402 or (status == 429 and retry_after is None and any(w in low for w in PAYMENT_WORDS)):
        return PaymentError(f"{text} (out of credit or over the quota)", not_created=True)
    if status == 429:
        suffix = f"; retry after {retry_after:g} s" if retry_after else ""
        return RateLimitedError(f"{text} (rate limited{suffix})", retry_after=retry_after, not_created=True)
    if any(w in low for w in CONTENT_WORDS) and 400 <= status < 500:
        return ContentRejectedError(f"{text} (the service refused the content; change the prompt or the images)",
                                    not_created=True)
    if 400 <= status < 500:
        return InvalidRequestError(text, field=field, allowed=allowed, not_created=True)
    if status in (503, 529):
        return TransientError(f"{text} (the service is overloaded; nothing was made)", retry_after=retry_after,
                              not_created=True)
    if status == 504:
        return ProviderTimeoutError(text + MAY_HAVE_RUN, not_created=False)
    return TransientError(text + MAY_HAVE_RUN, retry_after=retry_after, not_created=False)


def transport(label: str, exc: BaseException) -> ImageAIError:
    """A transport error of an httpx / httpx2 client: a connection never opened is safe to repeat, anything after
    the request went out may have run."""
    name = type(exc).__name__
    if "Connect" in name:  # ConnectError, ConnectTimeout: nothing reached the service
        return TransientError(f"{label}: cannot connect ({name}: {redact(str(exc))[:200]})", not_created=True)
    if "Timeout" in name:
        return ProviderTimeoutError(f"{label}: no answer in time ({name})" + MAY_HAVE_RUN, not_created=False)
    return TransientError(f"{label}: connection problem ({name}: {redact(str(exc))[:200]})" + MAY_HAVE_RUN,
                          not_created=False)


def no_image(label: str, why: str) -> BadOutputError:
    return BadOutputError(f"{label} answered without an image: {redact(why)[:300]}")
