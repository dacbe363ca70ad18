"""Service and transport errors -> the typed error set (core/errors.py).

`not_created` is True only when the service's answer proves no job exists (a 4xx on submit, an ingress error, a
connection that never opened); anything else after a submit may have reached the service is never retried by
submitting again.
"""
from __future__ import annotations

import json
import re
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from typing import Any, Mapping, Optional

import httpx

from core.errors import (AuthError, ContentRejectedError, ImageAIError, InvalidRequestError, PaymentError,
                         ProviderTimeoutError, RateLimitedError, TransientError)
from core.secrets import redact

CONTENT_WORDS = ("content_policy", "content policy", "nsfw", "sensitive", "safety", "flagged", "e005")


def retry_after_seconds(headers: Mapping[str, str] | None, text: str = "") -> Optional[float]:
    """Seconds from a Retry-After header (digits or an HTTP date), else from "resets in ~30s" wording."""
    value = None
    if headers:
        for k, v in headers.items():
            if k.lower() == "retry-after":
                value = v
                break
    if value:
        value = value.strip()
        if re.fullmatch(r"\d+(\.\d+)?", value):
            return float(value)
        try:
            when = parsedate_to_datetime(value)
            return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
        except (TypeError, ValueError):
            pass
    m = re.search(r"~?\s*(\d+)\s*s\b", text or "")
    return float(m.group(1)) if m and "rate" in (text or "").lower() else None


def detail_text(detail: Any) -> str:
    """A person-readable message from a service's `detail` (string, list of {loc,msg,type}, or object)."""
    if detail is None:
        return ""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = ".".join(str(x) for x in item.get("loc", []) if x != "body")
                msg = item.get("msg") or item.get("message") or json.dumps(item)
                parts.append(f"{loc}: {msg}" if loc else str(msg))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    if isinstance(detail, dict):
        return str(detail.get("msg") or detail.get("message") or detail.get("detail") or json.dumps(detail))
    return str(detail)


def is_content(*texts: Optional[str]) -> bool:
    blob = " ".join(t for t in texts if t).lower()
    return any(w in blob for w in CONTENT_WORDS)


def from_status(service: str, status: int, message: str, *, headers: Mapping[str, str] | None = None,
                error_type: Optional[str] = None, on_submit: bool = False, ingress: bool = False) -> ImageAIError:
    """Typed error for an HTTP error answer of a service."""
    message = redact(message or "")
    text = f"{service}: {message}" if message else f"{service}: HTTP {status}"
    if status in (401, 403) and not is_content(message, error_type):
        return AuthError(f"{text} (check the {service} API key)", not_created=on_submit)
    if status == 402:
        return PaymentError(f"{text} (out of credit or over quota)", not_created=on_submit)
    if status == 429:
        after = retry_after_seconds(headers, message)
        return RateLimitedError(f"{text} (rate limited" + (f"; retry after {after:g} s)" if after else ")"),
                                retry_after=after, not_created=on_submit)
    if is_content(message, error_type):
        return ContentRejectedError(f"{text} (the service refused the content)", not_created=on_submit)
    if status == 504 and not ingress:
        return ProviderTimeoutError(text, not_created=False)
    if status in (400, 404, 409, 413, 415, 422):
        err = InvalidRequestError(text, not_created=on_submit)
        return err
    if status >= 500:
        # an ingress answer (gateway, no request id) proves the app never saw the request
        return TransientError(text, not_created=on_submit and ingress)
    return TransientError(text, not_created=False)


def from_transport(service: str, exc: BaseException, *, on_submit: bool = False) -> ImageAIError:
    """Typed error for a connection problem; a submit whose connection never opened was certainly not created."""
    never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
    if isinstance(exc, httpx.TimeoutException) and not never_sent:
        return TransientError(f"{service}: the service did not answer in time ({type(exc).__name__})",
                              not_created=False)
    return TransientError(f"{service}: connection problem ({type(exc).__name__}: {redact(str(exc))[:200]})",
                          not_created=on_submit and never_sent)


def malformed(service: str, what: str, *, on_submit: bool = False) -> TransientError:
    # a garbled answer to a submit may still mean the job was created: never resubmit on it
    return TransientError(f"{service}: malformed answer to {what}", not_created=False)
