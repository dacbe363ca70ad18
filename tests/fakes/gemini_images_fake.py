"""A Gemini API fake on 127.0.0.1 for google-genai's generate_content with the Gemini image models:
POST /v1beta/models/{model}:generateContent, `x-goog-api-key`.

Every request body is checked as the service checks it: an unknown field (top level, generationConfig,
imageConfig, a part) is a 400 naming it; contents must hold one user turn with a text part; inline images must be
base64 PNG/JPEG/WebP that decode, at most as many as the model takes; aspectRatio of the ten the service offers;
imageSize (1K/2K/4K) only on the models with size tiers; responseModalities must ask for IMAGE; one candidate only.
Images come back at the size the service renders (the ratio's 1K size times the tier) in
candidates[0].content.parts[].inlineData, beside a short text part.

Errors as the service words them: 400 "API key not valid" (key "bad-key"), 403 without a key, 404 for an unknown
model; a prompt with FORBIDDEN is blocked (promptFeedback.blockReason PROHIBITED_CONTENT, no candidates: a 200 the
SDK does not raise on); `inject("job", {"finish": "IMAGE_SAFETY"})` ends the next answer with that finish reason
and no image; `inject("generate", {"status": 429, "json": ..., "headers": {"Retry-After": "1"}})`, 5xx, drops.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from typing import Any

from tests.fakes.clips import main
from tests.fakes.image_service import ImageFake, ImageHandler, image_size_of, make_image

NATIVE_1K = {"1:1": (1024, 1024), "2:3": (832, 1248), "3:2": (1248, 832), "3:4": (864, 1184), "4:3": (1184, 864),
             "4:5": (896, 1152), "5:4": (1152, 896), "9:16": (768, 1344), "16:9": (1344, 768), "21:9": (1536, 672)}
TIERS = {"1K": 1, "2K": 2, "4K": 4}
# model -> (takes imageSize, most input images)
MODELS = {"gemini-3.1-flash-image": (True, 14), "gemini-3-pro-image": (True, 14), "nano-banana-pro-preview": (True, 14),
          "gemini-3.1-flash-lite-image": (False, 3), "gemini-2.5-flash-image": (False, 3)}
TOP_FIELDS = {"contents", "generationConfig", "safetySettings", "systemInstruction", "tools", "toolConfig",
              "cachedContent", "labels"}
GEN_FIELDS = {"responseModalities", "imageConfig", "seed", "candidateCount", "temperature", "topP", "topK",
              "maxOutputTokens", "stopSequences"}
IMAGE_FIELDS = {"aspectRatio", "imageSize"}
PART_FIELDS = {"text", "inlineData"}


class GeminiError(Exception):
    def __init__(self, message: str, code: int = 400, status: str = "INVALID_ARGUMENT", field: str = "",
                 details: Any = None):
        super().__init__(message)
        self.message, self.code, self.status, self.field = message, code, status, field
        self.details = details

    def body(self) -> dict:
        details = self.details if self.details is not None else (
            [{"@type": "type.googleapis.com/google.rpc.BadRequest",
              "fieldViolations": [{"field": self.field, "description": self.message}]}] if self.field else [])
        return {"error": {"code": self.code, "message": self.message, "status": self.status, "details": details}}


def b64bytes(text: str) -> bytes:
    """Bytes of a proto JSON bytes field: standard or URL-safe base64, padding optional (google-genai sends the
    URL-safe form)."""
    text = text.replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def camel(value: Any) -> Any:
    """Keys in lowerCamelCase: the service's JSON parser takes a field by its proto name (mime_type) or its JSON
    name (mimeType), as google-genai sends either."""
    if isinstance(value, dict):
        return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def _unknown(obj: dict, allowed: set, where: str) -> None:
    for key in obj:
        if key not in allowed:
            raise GeminiError(f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': Cannot find "
                              "field.", field=f"{where}.{key}" if where else key)


class GeminiImagesFake(ImageFake):
    def validate(self, model: str, body: Any) -> dict:
        if model not in MODELS:
            raise GeminiError(f"models/{model} is not found for API version v1beta, or is not supported for "
                              "generateContent.", 404, "NOT_FOUND")
        takes_size, most_images = MODELS[model]
        if not isinstance(body, dict):
            raise GeminiError("Invalid JSON payload received.")
        _unknown(body, TOP_FIELDS, "")
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            raise GeminiError("* GenerateContentRequest.contents: contents is not specified", field="contents")
        texts, images = [], []
        for i, turn in enumerate(contents):
            _unknown(turn, {"role", "parts"}, f"contents[{i}]")
            if turn.get("role", "user") != "user":
                raise GeminiError(f"contents[{i}].role: an image request is one user turn", field=f"contents[{i}]")
            for j, part in enumerate(turn.get("parts") or []):
                _unknown(part, PART_FIELDS, f"contents[{i}].parts[{j}]")
                if "text" in part:
                    texts.append(part["text"])
                if "inlineData" in part:
                    images.append(self._image(part["inlineData"], f"contents[{i}].parts[{j}].inlineData"))
        prompt = " ".join(texts).strip()
        if not prompt:
            raise GeminiError("contents: a text part is required", field="contents")
        if len(images) > most_images:
            raise GeminiError(f"{model} takes at most {most_images} input images; got {len(images)}",
                              field="contents.parts.inlineData")
        config = body.get("generationConfig") or {}
        _unknown(config, GEN_FIELDS, "generation_config")
        modalities = [str(m).upper() for m in config.get("responseModalities") or ["TEXT"]]
        if "IMAGE" not in modalities:
            raise GeminiError("generation_config.responseModalities: ask for IMAGE from an image model",
                              field="generation_config.response_modalities")
        if int(config.get("candidateCount", 1)) != 1:
            raise GeminiError(f"Multiple candidates is not enabled for models/{model}",
                              field="generation_config.candidate_count")
        image_config = config.get("imageConfig") or {}
        _unknown(image_config, IMAGE_FIELDS, "generation_config.image_config")
        aspect = image_config.get("aspectRatio", "1:1")
        if aspect not in NATIVE_1K:
            raise GeminiError(f"generation_config.image_config.aspectRatio {aspect!r} is not supported; allowed: "
                              f"{', '.join(NATIVE_1K)}", field="generation_config.image_config.aspect_ratio")
        tier = image_config.get("imageSize")
        if tier is not None and not takes_size:
            raise GeminiError(f"generation_config.image_config.imageSize is not supported for {model}",
                              field="generation_config.image_config.image_size")
        if tier is not None and tier not in TIERS:
            raise GeminiError(f"generation_config.image_config.imageSize {tier!r}: allowed 1K, 2K, 4K",
                              field="generation_config.image_config.image_size")
        w, h = NATIVE_1K[aspect]
        k = TIERS[tier or "1K"]
        return {"prompt": prompt, "width": w * k, "height": h * k, "images": len(images),
                "seed": config.get("seed")}

    @staticmethod
    def _image(data: dict, where: str) -> tuple[int, int]:
        _unknown(data, {"mimeType", "data"}, where)
        if data.get("mimeType") not in ("image/png", "image/jpeg", "image/webp"):
            raise GeminiError(f"{where}.mimeType {data.get('mimeType')!r} is not supported", field=where)
        try:
            raw = b64bytes(data.get("data") or "")
        except binascii.Error:
            raise GeminiError(f"{where}.data is not base64", field=where) from None
        size = image_size_of(raw)
        if size is None:
            raise GeminiError(f"{where}: Unable to process input image.", field=where)
        return size

    def answer(self, model: str, job: dict) -> dict:
        usage = {"promptTokenCount": 10 + 258 * job["images"], "candidatesTokenCount": 1290,
                 "totalTokenCount": 1300 + 258 * job["images"]}
        if "FORBIDDEN" in job["prompt"]:
            return {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": usage,
                    "modelVersion": model}
        outcome = self.take_fault("job") or {}
        if outcome.get("finish"):
            return {"candidates": [{"content": {"role": "model", "parts": []}, "finishReason": outcome["finish"],
                                    "index": 0}], "usageMetadata": usage, "modelVersion": model}
        data = make_image(job["width"], job["height"], f"{job['prompt']}|{job['seed']}|{self.counts['submissions']}")
        self.bump("submissions")
        parts = [{"text": "Here is the image."},
                 {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(data).decode()}}]
        return {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": usage, "modelVersion": model, "responseId": uuid.uuid4().hex[:20]}


_GENERATE = re.compile(r"^/v1beta/models/([^/:]+):generateContent$")


class GeminiImagesHandler(ImageHandler):
    def do_POST(self):
        fake: GeminiImagesFake = self.fake  # type: ignore[assignment]
        path = self.path.split("?")[0]
        if self.serve_admin_post():
            return
        m = _GENERATE.match(path)
        if not m:
            self.send(404, GeminiError(f"{path} not found", 404, "NOT_FOUND").body())
            return
        fake.bump("submit_attempts")
        try:
            body = camel(json.loads(self.body() or b"{}"))
        except ValueError:
            body = None
        summary = None
        if isinstance(body, dict):  # the inline images as their decoded sizes, not their bytes
            summary = json.loads(json.dumps(body))
            for turn in summary.get("contents") or []:
                for part in turn.get("parts") or []:
                    if isinstance(part, dict) and isinstance(part.get("inlineData"), dict):
                        raw = part["inlineData"].get("data") or ""
                        try:
                            part["inlineData"]["data"] = image_size_of(b64bytes(raw))
                        except (binascii.Error, ValueError):
                            part["inlineData"]["data"] = None
        fake.record({"method": "POST", "path": path, "model": m.group(1), "auth": self.auth_kind(), "body": summary})
        key = self.headers.get("x-goog-api-key")
        if key == "bad-key":
            self.send(400, GeminiError("API key not valid. Please pass a valid API key.", details=[
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                 "domain": "googleapis.com"}]).body())
            return
        if not key:
            self.send(403, GeminiError("Method doesn't allow unregistered callers (callers without established "
                                       "identity). Please use API Key or other form of API consumer identity to "
                                       "call this API.", 403, "PERMISSION_DENIED").body())
            return
        if self.apply_fault("generate"):
            fake.save()
            return
        try:
            job = fake.validate(m.group(1), body)
        except GeminiError as exc:
            self.send(exc.code, exc.body())
            return
        self.send(200, fake.answer(m.group(1), job))

    def do_GET(self):
        if not self.serve_common_get():
            self.send(404, GeminiError("not found", 404, "NOT_FOUND").body())


GeminiImagesFake.handler_class = GeminiImagesHandler

if __name__ == "__main__":
    main(GeminiImagesFake)
