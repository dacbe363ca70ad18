"""Veo's failures -> the typed error set (core/errors.py).

Three sources: google-genai's APIError (an HTTP error answer: code, status, message, details), a transport error of
the httpx client, and a finished operation that carries an error or no video (safety filtering). `not_created` is
True only when the answer proves no job exists (any 4xx to a submit, a connection that never opened); anything else
after a submit may have reached the service is never retried by submitting again.
"""
from __future__ import annotations

import re
from typing import Any, Optional

from core.errors import (AuthError, ContentRejectedError, ImageAIError, InvalidRequestError, PaymentError,
                         ProviderTimeoutError, RateLimitedError, TransientError, UnavailableError)
from core.secrets import redact
from providers.google_genai_common import retry_delay
from providers.veo import catalog
from providers.veo.catalog_data import PERSON_GENERATION

#: the service's field names -> the setting that causes them
WIRE_FIELDS = {
    "durationSeconds": "duration", "resolution": "resolution", "aspectRatio": "aspect_ratio", "seed": "seed",
    "negativePrompt": "negative_prompt", "generateAudio": "include_audio", "enhancePrompt": "options.enhance_prompt",
    "personGeneration": "options.person_generation", "lastFrame": "end_image", "referenceImages": "reference_images",
    "video": "extend_video", "image": "start_image", "prompt": "prompt", "sampleCount": "number_of_videos",
}
CONTENT_WORDS = ("safety", "responsible ai", "usage guidelines", "blocked", "sensitive", "prohibited", "celebrity",
                 "child", "filtered")
REGION_WORDS = ("location is not supported", "not available in your country", "region", "unsupported location")
# gRPC codes an operation's error carries
_GRPC = {3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED", 7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED",
         9: "FAILED_PRECONDITION", 13: "INTERNAL", 14: "UNAVAILABLE", 16: "UNAUTHENTICATED"}


def setting_of(text: str) -> Optional[str]:
    """The setting a service message names (by its wire field), if any."""
    for wire, setting in WIRE_FIELDS.items():
        if re.search(rf"\b{wire}\b", text):
            return setting
    return None


def _field_violation(details: Any) -> Optional[str]:
    try:
        for item in details.get("error", {}).get("details", []) or []:
            for v in item.get("fieldViolations", []) or []:
                found = setting_of(v.get("field", "")) or setting_of(v.get("description", ""))
                if found:
                    return found
    except AttributeError:
        return None
    return None


def _retry_after(exc: Any) -> Optional[float]:
    """Seconds from a Retry-After header, else from the RetryInfo detail ("retryDelay": "30s")."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    if value and re.fullmatch(r"\d+(\.\d+)?", value.strip()):
        return float(value)
    return retry_delay(exc)


def _person_allowed(deployment: str) -> list[str]:
    values: list[str] = []
    for mode_values in PERSON_GENERATION[deployment].values():
        values += [v for v in mode_values if v not in values]
    return values


def classify(deployment: str, code: int, status: str, message: str, *, details: Any = None,
             retry_after: Optional[float] = None, on_submit: bool = False) -> ImageAIError:
    """Typed error for one error answer (an HTTP error, or an operation's error with its gRPC status)."""
    label = catalog.label_of(deployment)
    message = redact(message or "")
    text = f"Veo on {label}: {message or status or f'HTTP {code}'}"
    low = message.lower()
    status = status or ""
    if "api key not valid" in low or code in (401, 403) or status in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
        if any(w in low for w in REGION_WORDS):
            return _region(deployment, text, on_submit)
        return AuthError(f"{text} (check the {'Gemini API key' if deployment == 'gemini' else 'Vertex AI key or credentials'})",
                         not_created=on_submit)
    if code == 429 or status == "RESOURCE_EXHAUSTED":
        if "billing" in low or "per day" in low or "prepayment" in low:
            return PaymentError(f"{text} (out of credit or over the daily quota)", not_created=on_submit)
        suffix = f"; retry after {retry_after:g} s" if retry_after else ""
        return RateLimitedError(f"{text} (rate limited{suffix})", retry_after=retry_after, not_created=on_submit)
    if any(w in low for w in REGION_WORDS):
        return _region(deployment, text, on_submit)
    if "persongeneration" in low or "person generation" in low:
        return InvalidRequestError(f"{text} (the options.person_generation setting causes it)",
                                   field="options.person_generation", allowed=_person_allowed(deployment),
                                   not_created=on_submit)
    if any(w in low for w in CONTENT_WORDS):
        return ContentRejectedError(f"{text} (the service refused the content)", not_created=on_submit)
    if code == 404 or status == "NOT_FOUND":
        return InvalidRequestError(text, field="model", allowed=catalog.model_ids(deployment), not_created=on_submit)
    if code in (400, 409, 412, 413, 422) or status in ("INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE"):
        field = _field_violation(details) or setting_of(message)
        return InvalidRequestError(text + (f" (the {field} setting causes it)" if field else ""), field=field,
                                   not_created=on_submit)
    if code == 504 or status == "DEADLINE_EXCEEDED":
        return ProviderTimeoutError(text, not_created=False)
    return TransientError(text, retry_after=retry_after, not_created=False)


def _region(deployment: str, text: str, on_submit: bool) -> UnavailableError:
    if deployment == "gemini":
        hint = "the Gemini API does not serve Veo where this request comes from: choose the Vertex AI deployment " \
               "(model veo-3.1-generate-001) with a supported GOOGLE_CLOUD_LOCATION"
    else:
        hint = "Vertex AI does not serve Veo in this location: set GOOGLE_CLOUD_LOCATION to a supported region " \
               "(us-central1)"
    return UnavailableError(f"{text} ({hint})", not_created=on_submit)


def from_exception(deployment: str, exc: BaseException, *, on_submit: bool = False) -> ImageAIError:
    """Typed error for anything a google-genai call raised."""
    if isinstance(exc, ImageAIError):
        return exc
    import httpx
    from google.genai import errors as genai_errors
    if isinstance(exc, genai_errors.APIError):
        return classify(deployment, int(exc.code or 0), str(exc.status or ""), str(exc.message or ""),
                        details=exc.details, retry_after=_retry_after(exc), on_submit=on_submit)
    label = catalog.label_of(deployment)
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        return TransientError(f"Veo on {label}: cannot connect ({type(exc).__name__}: {redact(str(exc))[:200]})",
                              not_created=on_submit)
    if isinstance(exc, httpx.TimeoutException):
        return TransientError(f"Veo on {label}: the service did not answer in time", not_created=False)
    if isinstance(exc, httpx.TransportError):
        return TransientError(f"Veo on {label}: connection problem ({type(exc).__name__})", not_created=False)
    auth_error = _google_auth_error(exc)
    if auth_error is not None:
        return auth_error
    if isinstance(exc, ValueError) and on_submit:
        # google-genai refuses a field this deployment does not take before sending anything
        message = redact(str(exc))
        return InvalidRequestError(f"Veo on {label}: {message}", field=setting_of(message), not_created=True)
    return TransientError(f"Veo on {label}: {type(exc).__name__}: {redact(str(exc))[:300]}", not_created=False)


def _google_auth_error(exc: BaseException) -> Optional[ImageAIError]:
    try:
        from google.auth import exceptions as auth_exceptions
    except ImportError:  # pragma: no cover - google-auth comes with google-genai
        return None
    if isinstance(exc, auth_exceptions.DefaultCredentialsError):
        return AuthError("Vertex AI needs credentials: run `gcloud auth application-default login`, or use an "
                         f"express-mode key ({redact(str(exc))[:200]})", not_created=True)
    if isinstance(exc, auth_exceptions.GoogleAuthError):
        return AuthError(f"Vertex AI credentials: {redact(str(exc))[:300]}", not_created=True)
    return None


def operation_error(deployment: str, error: Any) -> ImageAIError:
    """A finished operation that failed: its `error` is a google.rpc.Status ({code, message})."""
    error = error or {}
    code = int(error.get("code") or 0)
    status = _GRPC.get(code, "")
    http = {3: 400, 7: 403, 8: 429, 9: 400, 16: 401}.get(code, 500)
    err = classify(deployment, http, status, str(error.get("message") or ""))
    err.retryable = False  # the operation ended in failure: following it again changes nothing
    err.not_created = False
    return err


def filtered(deployment: str, reasons: Optional[list], count: Optional[int]) -> ContentRejectedError:
    """A finished operation whose video the safety filters removed (raiMediaFilteredReasons)."""
    why = "; ".join(str(r) for r in (reasons or [])) or f"{count or 1} video(s) filtered, no reason given"
    return ContentRejectedError(f"Veo on {catalog.label_of(deployment)} filtered the video: {redact(why)}")
