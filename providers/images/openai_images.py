"""OpenAI's GPT image models through the official openai SDK: images.generate for a prompt, images.edit when the
request carries input images (the scene's and the project's references, so a character stays the same from scene
to scene). The SDK's own retries are off (max_retries=0): it would re-send a POST after a 500 or a timeout, which may
pay twice; the one policy of core/images/retry.py decides. The address is settings.openai_url / IMAGEAI_OPENAI_URL
(the SDK's base_url, with /v1; plain http allowed)."""
from __future__ import annotations

import asyncio
import base64
import mimetypes
from pathlib import Path
from typing import Any, Optional

from core.errors import ImageAIError, UnavailableError
from core.images.contract import ImageCall, ImageModelInfo, ImagePlan, ProgressCallback, ProgressEvent
from core.images.planning import ImagePlanBuilder
from providers.images import errors
from providers.images.base import CatalogImageProvider, Delivered

REQUEST_TIMEOUT_S = 300.0  # one request: a high-quality large image takes minutes
LABEL = "OpenAI"
#: the service's parameter names -> the setting that causes them
PARAM_FIELDS = {"size": "size", "quality": "quality", "n": "variants", "image": "reference_images",
                "model": "model", "prompt": "prompt", "input_fidelity": "reference_images"}


class OpenAIImageProvider(CatalogImageProvider):
    name = "openai"
    display_name = "OpenAI"
    catalog_name = "openai"
    key_service = "openai"
    key_hint = "set OPENAI_API_KEY, or save a key for 'openai'"

    def __init__(self, settings=None):
        super().__init__(settings)
        self._client: Any = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def unavailable_reason(self) -> Optional[str]:
        import importlib.util
        if importlib.util.find_spec("openai") is None:
            return "the OpenAI provider needs the openai package: pip install 'openai>=3.57,<4'"
        return super().unavailable_reason()

    def finish(self, b: ImagePlanBuilder, m: ImageModelInfo, plan: ImagePlan) -> None:
        plan.sent["output_format"] = "png"
        if plan.references and "input_fidelity" in m.params:
            plan.sent["input_fidelity"] = "high"  # keep faces and features of the references

    def client(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:  # its connection pool belongs to the loop that made it
            reason = self.unavailable_reason()
            if reason:
                raise UnavailableError(reason)
            import openai
            self._client = openai.AsyncOpenAI(api_key=self.key(), base_url=self.settings.effective("openai_url"),
                                              max_retries=0, timeout=REQUEST_TIMEOUT_S)
            self._loop = loop
        return self._client

    async def deliver(self, plan: ImagePlan, call: ImageCall, progress: ProgressCallback) -> list[Delivered]:
        client = self.client()
        args: dict[str, Any] = {"model": plan.model, "prompt": plan.request.prompt, "n": len(call.outputs),
                                "size": plan.sent["size"], "quality": plan.sent.get("quality"),
                                "output_format": plan.sent["output_format"]}
        if "input_fidelity" in plan.sent:
            args["input_fidelity"] = plan.sent["input_fidelity"]
        args = {k: v for k, v in args.items() if v is not None}
        what = f"{len(call.outputs)} image(s) from {plan.model}"
        try:
            if plan.references:
                progress(ProgressEvent(stage="uploading", message=f"sending {len(plan.references)} reference "
                                                                  f"image(s); asking for {what}"))
                images = [_file(p) for p in plan.references]
                response = await client.images.edit(image=images, **args)
            else:
                progress(ProgressEvent(stage="submitted", message=f"asking for {what}"))
                response = await client.images.generate(**args)
        except Exception as exc:
            raise from_exception(exc) from exc
        out = []
        for item in response.data or []:
            if not item.b64_json:
                continue
            try:
                out.append(Delivered(data=base64.b64decode(item.b64_json), revised_prompt=item.revised_prompt))
            except ValueError:
                raise errors.no_image(LABEL, "an image that is not base64") from None
        if not out:
            raise errors.no_image(LABEL, "the answer holds no image data")
        return out

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._loop is asyncio.get_running_loop():
            await client.close()  # a client of another (ended) loop died with it: nothing to close here


def _file(path: Path) -> tuple[str, bytes, str]:
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return path.name, Path(path).read_bytes(), mime


def from_exception(exc: BaseException) -> ImageAIError:
    """Typed error for anything an openai SDK call raised."""
    if isinstance(exc, ImageAIError):
        return exc
    import openai
    if isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        message = str(body.get("message") or exc.message)
        field = PARAM_FIELDS.get(str(exc.param or ""))
        return errors.classify(LABEL, exc.status_code, message, code=str(exc.code or body.get("type") or ""),
                               field=field, retry_after=errors.retry_after_of(exc.response.headers))
    if isinstance(exc, openai.APITimeoutError):
        return errors.transport(LABEL, exc)
    if isinstance(exc, openai.APIConnectionError):
        # the transport error underneath says whether the request went out (APIConnectionError covers both)
        cause = exc.__cause__
        return errors.transport(LABEL, cause if cause is not None else RuntimeError(str(exc)))
    return errors.transport(LABEL, exc)
