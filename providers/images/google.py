"""Google's Gemini image models through google-genai's generate_content, with an AI Studio key (the Gemini API).

generate_content serves image models in both SDK majors and in both modes, while generate_images (Imagen) is
Vertex-only from google-genai 3.0 on: so the Gemini image models are the AI-Studio-key path, and no Vertex path is
needed for them. The request carries the prompt and the input images inline (the scene's and the project's
references, up to what the model takes), the aspect ratio and, on the newer models, the size tier; one request
makes one image, so variants are one request each (seed + i). The SDK's retries stay off (its default): the one
policy of core/images/retry.py decides. The address is settings.gemini_url / IMAGEAI_GEMINI_URL (plain http
allowed)."""
from __future__ import annotations

import mimetypes
from typing import Any, Optional

from core.errors import AuthError, ContentRejectedError, ImageAIError, UnavailableError
from core.images.contract import ImageCall, ImagePlan, ProgressCallback, ProgressEvent
from core.secrets import redact
from providers.images import errors
from providers.google_genai_common import GenaiClient, retry_delay
from providers.images.base import CatalogImageProvider, Delivered

REQUEST_TIMEOUT_S = 180.0
LABEL = "Gemini API"
BLOCK_REASONS = ("SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "IMAGE_PROHIBITED_CONTENT", "BLOCKLIST", "SPII",
                 "RECITATION", "IMAGE_RECITATION", "OTHER", "IMAGE_OTHER")
WIRE_FIELDS = {"aspectRatio": "size", "imageSize": "size", "seed": "seed", "inlineData": "reference_images",
               "candidateCount": "variants"}


class GoogleImageProvider(CatalogImageProvider):
    name = "google"
    display_name = "Google Gemini"
    catalog_name = "google"
    key_service = "google"
    key_hint = "set GEMINI_API_KEY or GOOGLE_API_KEY, or save a key for 'google'"

    def __init__(self, settings=None):
        super().__init__(settings)
        self._genai = GenaiClient(REQUEST_TIMEOUT_S)

    def unavailable_reason(self) -> Optional[str]:
        import importlib.util
        if importlib.util.find_spec("google.genai") is None:
            return "the Google provider needs the google-genai package: pip install 'google-genai>=2.34,<3'"
        return super().unavailable_reason()

    def client(self) -> Any:
        reason = self.unavailable_reason()
        if reason:
            raise UnavailableError(reason)
        # vertexai=False explicitly: GOOGLE_GENAI_USE_VERTEXAI in the environment must not switch the service
        return self._genai.get(self.settings.effective("gemini_url"),
                               lambda: dict(api_key=self.key(), vertexai=False))

    def contents(self, plan: ImagePlan) -> list:
        from google.genai import types
        parts = [types.Part.from_text(text=plan.request.prompt)]
        for path in plan.references:
            mime = mimetypes.guess_type(path.name)[0] or "image/png"
            parts.append(types.Part.from_bytes(data=path.read_bytes(), mime_type=mime))
        return [types.Content(role="user", parts=parts)]

    def config(self, plan: ImagePlan, call: ImageCall) -> Any:
        from google.genai import types
        image = types.ImageConfig(aspect_ratio=plan.sent["aspect_ratio"], image_size=plan.sent.get("image_size"))
        return types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"], image_config=image,
                                           seed=call.seed)

    async def deliver(self, plan: ImagePlan, call: ImageCall, progress: ProgressCallback) -> list[Delivered]:
        client = self.client()
        refs = f" with {len(plan.references)} reference image(s)" if plan.references else ""
        progress(ProgressEvent(stage="submitted", message=f"asking {plan.model} for image {call.index + 1}{refs}"))
        try:
            response = await client.aio.models.generate_content(model=plan.model, contents=self.contents(plan),
                                                                config=self.config(plan, call))
        except Exception as exc:
            raise from_exception(exc) from exc
        return [Delivered(data=image_of(plan.model, response), seed=call.seed)]

    async def aclose(self) -> None:
        await self._genai.aclose()


def _name(value: Any) -> str:
    return str(getattr(value, "name", None) or value or "")


def image_of(model: str, response: Any) -> bytes:
    """The image of an answer; ContentRejectedError when the filters blocked the prompt or the image."""
    feedback = getattr(response, "prompt_feedback", None)
    block = _name(getattr(feedback, "block_reason", None))
    if block and block != "BLOCKED_REASON_UNSPECIFIED":
        why = getattr(feedback, "block_reason_message", None) or block
        raise ContentRejectedError(f"{LABEL} ({model}) blocked the prompt: {redact(str(why))}; change the prompt or "
                                   "the images")
    texts = []
    finish = ""
    for cand in getattr(response, "candidates", None) or []:
        finish = _name(getattr(cand, "finish_reason", None)) or finish
        for part in getattr(getattr(cand, "content", None), "parts", None) or []:
            data = getattr(getattr(part, "inline_data", None), "data", None)
            if data:
                return data
            if getattr(part, "text", None):
                texts.append(part.text)
    if finish in BLOCK_REASONS:
        raise ContentRejectedError(f"{LABEL} ({model}) made no image: finish reason {finish} (its safety filters); "
                                   "change the prompt or the images")
    if texts:
        said = redact(" ".join(texts))[:300]
        raise ContentRejectedError(f"{LABEL} ({model}) answered with text and no image: {said!r}")
    raise errors.no_image(LABEL, f"no candidates (finish reason {finish or 'none'})")


def _retry_after(exc: Any) -> Optional[float]:
    """Seconds from a Retry-After header, else from the RetryInfo detail ("retryDelay": "30s")."""
    value = errors.retry_after_of(getattr(getattr(exc, "response", None), "headers", None))
    if value is not None:
        return value
    return retry_delay(exc)


def from_exception(exc: BaseException) -> ImageAIError:
    """Typed error for anything a google-genai call raised."""
    if isinstance(exc, ImageAIError):
        return exc
    from google.genai import errors as genai_errors
    if isinstance(exc, genai_errors.APIError):
        message = str(exc.message or exc.status or "")
        if "api key not valid" in message.lower() or "api_key_invalid" in str(exc.details).lower():
            return AuthError(f"{LABEL}: {redact(message)} (check the Gemini API key)", not_created=True)
        field = next((WIRE_FIELDS[w] for w in WIRE_FIELDS if w in message), None)
        status = int(exc.code or 0)
        if str(exc.status or "") == "RESOURCE_EXHAUSTED":
            status = 429
        return errors.classify(LABEL, status, message, code=str(exc.status or ""), field=field,
                               retry_after=_retry_after(exc))
    if isinstance(exc, ValueError):  # google-genai refuses a value before sending anything
        from core.errors import InvalidRequestError
        return InvalidRequestError(f"{LABEL}: {redact(str(exc))[:300]}", not_created=True)
    return errors.transport(LABEL, exc)
