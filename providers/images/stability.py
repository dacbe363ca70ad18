"""Stability AI's stable-image endpoints over plain REST (httpx): POST {base}/v2beta/stable-image/generate/{ultra |
core | sd3}, multipart/form-data, `Authorization: Bearer`, `Accept: image/*`: the answer is the image itself, with
its seed and finish reason in headers. One request makes one image, so variants are one request each (seed + i).

ultra and sd3 take one input image (image-to-image: the scene's reference, else the project's first, with
`strength`); the output then takes the input's shape, so aspect_ratio is not sent and the image is cropped and
scaled to the asked size. core takes no input image. The address is settings.stability_url / IMAGEAI_STABILITY_URL
(plain http allowed)."""
from __future__ import annotations

import asyncio
import mimetypes
import re
from typing import Any, Optional

from core.errors import ContentRejectedError, ImageAIError
from core.images.contract import ImageCall, ImageModelInfo, ImagePlan, ProgressCallback, ProgressEvent
from core.images.planning import ImagePlanBuilder
from providers.images import errors
from providers.images.base import CatalogImageProvider, Delivered
from providers.images.catalogs.stability import ENDPOINTS

DEFAULT_URL = "https://api.stability.ai"
REQUEST_TIMEOUT_S = 180.0
LABEL = "Stability AI"
MAX_IMAGE_BYTES = 50 * 1024 * 1024  # a reply larger than this is not an image of ours


class StabilityImageProvider(CatalogImageProvider):
    name = "stability"
    display_name = "Stability AI"
    catalog_name = "stability"
    key_service = "stability"
    key_hint = "set STABILITY_API_KEY, or save a key for 'stability'"

    def __init__(self, settings=None):
        super().__init__(settings)
        self._http: Any = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def finish(self, b: ImagePlanBuilder, m: ImageModelInfo, plan: ImagePlan) -> None:
        endpoint, sd3_model = ENDPOINTS[m.id]
        plan.sent["endpoint"] = endpoint
        plan.sent["output_format"] = "png"
        if sd3_model:
            plan.sent["model"] = sd3_model
            plan.sent["mode"] = "image-to-image" if plan.references else "text-to-image"
        if plan.references:
            # the output follows the input image's shape: the service sizes it, the crop and scale fit it
            aspect = plan.sent.pop("aspect_ratio", None)
            plan.render_width = plan.render_height = None
            b.adjustments = [a for a in b.adjustments if a.field != "size"]
            b.adjust("size", f"{plan.width}x{plan.height}", "the input image's shape",
                     f"image-to-image on {b.label} keeps the input image's shape (aspect_ratio {aspect} is not "
                     f"sent); the image is cropped and scaled to {plan.width}x{plan.height}")

    def url(self) -> str:
        return (self.settings.effective("stability_url") or DEFAULT_URL).rstrip("/")

    def http(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._http is None or self._loop is not loop:  # its connection pool belongs to the loop that made it
            import httpx
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(REQUEST_TIMEOUT_S, connect=15.0))
            self._loop = loop
        return self._http

    def form(self, plan: ImagePlan, call: ImageCall) -> tuple[dict[str, str], Optional[dict]]:
        s = plan.sent
        data: dict[str, str] = {"prompt": plan.request.prompt, "output_format": s["output_format"]}
        for key in ("aspect_ratio", "negative_prompt", "model", "mode"):
            if s.get(key) is not None:
                data[key] = str(s[key])
        if call.seed is not None:
            data["seed"] = str(call.seed)
        files = None
        if plan.references:
            path = plan.references[0]
            files = {"image": (path.name, path.read_bytes(), mimetypes.guess_type(path.name)[0] or "image/png")}
            data["strength"] = f"{s['strength']:g}"
        else:
            # httpx sends multipart only with a file part; a dummy `none` part is how the service's own examples
            # send a text-only form
            files = {"none": ("", b"", "application/octet-stream")}
        return data, files

    async def deliver(self, plan: ImagePlan, call: ImageCall, progress: ProgressCallback) -> list[Delivered]:
        key = self.key()
        data, files = self.form(plan, call)
        url = f"{self.url()}/v2beta/stable-image/generate/{plan.sent['endpoint']}"
        progress(ProgressEvent(stage="submitted", message=f"asking {plan.model} for image {call.index + 1}"))
        try:
            response = await self.http().post(url, data=data, files=files, headers={
                "Authorization": f"Bearer {key}", "Accept": "image/*",
                "stability-client-id": "imageai-video"})
        except Exception as exc:
            raise errors.transport(LABEL, exc) from exc
        if response.status_code != 200:
            raise answer_error(response)
        body = response.content
        if len(body) > MAX_IMAGE_BYTES:
            raise errors.no_image(LABEL, f"an answer of {len(body)} bytes")
        finish = (response.headers.get("finish-reason") or "SUCCESS").upper()
        if finish == "CONTENT_FILTERED":
            raise ContentRejectedError(f"{LABEL} ({plan.model}) filtered the image (finish reason CONTENT_FILTERED; "
                                       "the service returns a blurred picture and charges it); change the prompt "
                                       "or the input image")
        if finish != "SUCCESS":
            raise errors.no_image(LABEL, f"finish reason {finish}")
        seed = response.headers.get("seed")
        return [Delivered(data=body, seed=int(seed) if seed and seed.isdigit() else None)]

    async def aclose(self) -> None:
        http, self._http = self._http, None
        if http is not None and self._loop is asyncio.get_running_loop():
            await http.aclose()  # a client of another (ended) loop died with it: nothing to close here


#: the service's form fields -> the setting that causes them
FIELDS = {"prompt": "prompt", "negative_prompt": "negative_prompt", "aspect_ratio": "size", "seed": "seed",
          "image": "reference_images", "strength": "strength", "model": "model", "mode": "reference_images"}


def answer_error(response: Any) -> ImageAIError:
    """Typed error for an error answer: {"id", "name", "errors": [...]}."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    messages = body.get("errors") if isinstance(body.get("errors"), list) else []
    message = "; ".join(str(m) for m in messages) or str(body.get("message") or response.reason_phrase or "")
    name = str(body.get("name") or "")
    # the service names the field first ("aspect_ratio: must be one of ..."), else somewhere in the text
    lead = re.match(r"\s*(\w+):", message)
    field = FIELDS.get(lead.group(1)) if lead else next((FIELDS[w] for w in FIELDS if f"{w}:" in message), None)
    return errors.classify(LABEL, response.status_code, message, code=name, field=field,
                           retry_after=errors.retry_after_of(response.headers))
