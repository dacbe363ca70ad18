"""An OpenAI Images API fake on 127.0.0.1 for the real openai SDK (base_url = {url}/v1):

- POST /v1/images/generations (JSON) and POST /v1/images/edits (multipart: `image` or `image[]` files, up to 16),
  `Authorization: Bearer`; every request body is checked against the fields the endpoint accepts (the SDK's
  image_generate_params / image_edit_params): an unknown field is a 400 naming it (`unknown_parameter`), a wrong
  value a 400 naming the param and what is allowed; the model's rules (sizes divisible by 16 within 655,360 -
  3840x2160 pixels and 1:3 - 3:1 for gpt-image-2 and 2.5, the three standard sizes otherwise, qualities per model,
  input_fidelity only where the model takes it), retired models a 404.
- Answers {"created", "data": [{"b64_json"}], "size", "quality", "output_format", "usage"}, PNGs of the size asked.
- Errors as the service words them: 401 invalid_api_key (key "bad-key"; the message echoes the key, as a gateway
  might, so tests see the app redact it), 400 moderation_blocked (a prompt with FORBIDDEN), and injected faults:
  `inject("generate", {"status": 429, "json": ..., "headers": {"Retry-After": "1"}})`, 5xx, drops.
"""
from __future__ import annotations

import base64
import json
import time
from typing import Any

from tests.fakes.clips import main
from tests.fakes.image_service import ImageFake, ImageHandler, MultipartError, image_size_of, make_image, \
    parse_multipart

LIVE = ("gpt-image-2", "gpt-image-2-2026-04-21", "gpt-image-2.5-sunburst", "gpt-image-2.5-sunburst-2026-09-08",
        "gpt-image-2.5-flare", "gpt-image-2.5-flare-2026-09-08", "gpt-image-2.6-sunburst", "gpt-image-2.6-flare",
        "gpt-image-1.5", "gpt-image-1-mini", "chatgpt-image-latest")
RETIRED = ("gpt-image-1", "dall-e-2", "dall-e-3")
FREE_SIZE = ("gpt-image-2", "gpt-image-2-2026-04-21", "gpt-image-2.5-sunburst", "gpt-image-2.5-sunburst-2026-09-08",
             "gpt-image-2.5-flare", "gpt-image-2.5-flare-2026-09-08")
STANDARD = ("1024x1024", "1536x1024", "1024x1536")
COMMON = {"prompt", "background", "complexity", "frame_count", "frame_duration_ms", "model", "n",
          "output_compression", "output_format", "partial_images", "quality", "response_format",
          "safety_identifier", "size", "stream", "svg", "user"}
GENERATE_FIELDS = COMMON | {"moderation", "style"}
EDIT_FIELDS = COMMON | {"image", "image[]", "input_fidelity", "markup", "mask"}


class OpenAIError(Exception):
    def __init__(self, status: int, message: str, *, param: Any = None, code: Any = None,
                 type_: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.type = status, message, param, code, type_

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def qualities(model: str) -> tuple[str, ...]:
    if model.startswith("gpt-image-2.5"):
        return ("low", "medium", "high", "xhigh", "max", "auto")
    return ("low", "medium", "high", "auto")


def check_size(model: str, size: str) -> tuple[int, int]:
    if size == "auto":
        return 1024, 1024
    try:
        w, h = (int(x) for x in size.lower().split("x"))
    except ValueError:
        raise OpenAIError(400, f"Invalid size '{size}'. Use WIDTHxHEIGHT.", param="size",
                          code="invalid_value") from None
    if model not in FREE_SIZE:
        if size not in STANDARD:
            raise OpenAIError(400, f"Invalid size '{size}'. Supported sizes are {', '.join(STANDARD)} and auto.",
                              param="size", code="invalid_value")
        return w, h
    problems = []
    if w % 16 or h % 16:
        problems.append("width and height must be divisible by 16")
    if max(w, h) / min(w, h) > 3:
        problems.append("the aspect ratio must be between 1:3 and 3:1")
    if w * h > 3840 * 2160 or max(w, h) > 3840:
        problems.append("the maximum resolution is 3840x2160")
    if w * h < 655_360:
        problems.append("the image must have at least 655,360 pixels")
    if problems:
        raise OpenAIError(400, f"Invalid size '{size}': {'; '.join(problems)}.", param="size", code="invalid_value")
    return w, h


class OpenAIImagesFake(ImageFake):
    def validate(self, body: dict, edit: bool, images: list[bytes]) -> dict:
        allowed = EDIT_FIELDS if edit else GENERATE_FIELDS
        for key in body:
            if key not in allowed:
                raise OpenAIError(400, f"Unknown parameter: '{key}'.", param=key, code="unknown_parameter")
        model = body.get("model")
        if not model:
            raise OpenAIError(400, "Missing required parameter: 'model'.", param="model",
                              code="missing_required_parameter")
        if model in RETIRED or model not in LIVE:
            raise OpenAIError(404, f"The model '{model}' does not exist or you do not have access to it.",
                              param="model", code="model_not_found")
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            raise OpenAIError(400, "Missing required parameter: 'prompt'.", param="prompt",
                              code="missing_required_parameter")
        if len(prompt) > 32000:
            raise OpenAIError(400, "prompt is longer than 32000 characters", param="prompt",
                              code="string_above_max_length")
        for legacy in ("response_format", "style"):
            if legacy in body:
                raise OpenAIError(400, f"'{legacy}' is not supported for GPT image models.", param=legacy,
                                  code="unsupported_parameter")
        n = int(body.get("n", 1))
        if not 1 <= n <= 10:
            raise OpenAIError(400, f"Invalid 'n': {n}. Must be between 1 and 10.", param="n", code="invalid_value")
        quality = body.get("quality", "auto")
        if quality not in qualities(model):
            raise OpenAIError(400, f"Invalid quality '{quality}' for {model}; allowed: {', '.join(qualities(model))}.",
                              param="quality", code="invalid_value")
        fmt = body.get("output_format", "png")
        if fmt not in ("png", "webp", "jpeg"):
            raise OpenAIError(400, f"Invalid output_format '{fmt}'.", param="output_format", code="invalid_value")
        width, height = check_size(model, str(body.get("size", "auto")))
        if edit:
            if not images:
                raise OpenAIError(400, "Missing required parameter: 'image'.", param="image",
                                  code="missing_required_parameter")
            if len(images) > 16:
                raise OpenAIError(400, f"Too many images: {len(images)}; at most 16.", param="image",
                                  code="invalid_value")
            for i, data in enumerate(images):
                if image_size_of(data) is None:
                    raise OpenAIError(400, f"Invalid image file {i}: the image could not be decoded.",
                                      param="image", code="invalid_image_file")
            fidelity = body.get("input_fidelity")
            if fidelity is not None:
                if model.startswith("gpt-image-2") or (model == "gpt-image-1-mini" and fidelity != "low"):
                    raise OpenAIError(400, f"input_fidelity '{fidelity}' is not supported for {model}.",
                                      param="input_fidelity", code="unsupported_parameter")
                if fidelity not in ("high", "low"):
                    raise OpenAIError(400, f"Invalid input_fidelity '{fidelity}'.", param="input_fidelity",
                                      code="invalid_value")
        if "FORBIDDEN" in prompt:
            raise OpenAIError(400, "Your request was rejected as a result of our safety system. Your request may "
                                   "contain content that is not allowed by our safety system.",
                              code="moderation_blocked", type_="image_generation_user_error")
        return {"model": model, "n": n, "width": width, "height": height, "quality": quality, "format": fmt,
                "prompt": prompt}

    def answer(self, job: dict) -> dict:
        fmt = {"png": "PNG", "webp": "WEBP", "jpeg": "JPEG"}[job["format"]]
        data = [{"b64_json": base64.b64encode(make_image(job["width"], job["height"],
                                                         f"{job['prompt']}|{i}|{self.counts['submissions']}",
                                                         fmt)).decode()} for i in range(job["n"])]
        self.bump("submissions")
        return {"created": int(time.time()), "data": data, "output_format": job["format"],
                "quality": "high" if job["quality"] == "auto" else job["quality"],
                "size": f"{job['width']}x{job['height']}", "background": "opaque",
                "usage": {"input_tokens": 50, "input_tokens_details": {"image_tokens": 0, "text_tokens": 50},
                          "output_tokens": 4000 * job["n"], "total_tokens": 50 + 4000 * job["n"]}}


class OpenAIImagesHandler(ImageHandler):
    def do_POST(self):
        fake: OpenAIImagesFake = self.fake  # type: ignore[assignment]
        path = self.path.split("?")[0]
        if self.serve_admin_post():
            return
        if path not in ("/v1/images/generations", "/v1/images/edits"):
            self.send(404, OpenAIError(404, f"Invalid URL (POST {path})").body())
            return
        edit = path.endswith("/edits")
        fake.bump("submit_attempts")
        raw = self.body()
        entry: dict[str, Any] = {"method": "POST", "path": path, "auth": self.auth_kind(),
                                 "content_type": (self.headers.get("Content-Type") or "").split(";")[0]}
        images: list[bytes] = []
        try:
            if edit:
                fields, files = parse_multipart(self.headers.get("Content-Type") or "", raw)
                body: dict[str, Any] = {k: (v[0] if len(v) == 1 else v) for k, v in fields.items()}
                for name, items in files.items():
                    body[name] = "<file>"
                    images += [f["data"] for f in items]
                entry["files"] = self.file_summary(files)
            else:
                body = json.loads(raw or b"{}")
        except (MultipartError, ValueError) as exc:
            entry["body"] = None
            fake.record(entry)
            self.send(400, OpenAIError(400, f"We could not parse the body of your request: {exc}").body())
            return
        entry["body"] = body
        fake.record(entry)
        key = self.bearer()
        if not key:
            self.send(401, OpenAIError(401, "You didn't provide an API key.", code="missing_api_key").body())
            return
        if key == "bad-key" or key.startswith("sk-revoked"):
            self.send(401, OpenAIError(401, f"Incorrect API key provided: {key}. You can find your API key at "
                                            "https://platform.openai.com/account/api-keys.",
                                       code="invalid_api_key").body())
            return
        if self.apply_fault("generate"):
            fake.save()
            return
        try:
            job = fake.validate(body, edit, images)
        except OpenAIError as exc:
            self.send(exc.status, exc.body())
            return
        self.send(200, fake.answer(job))

    def do_GET(self):
        if not self.serve_common_get():
            self.send(404, OpenAIError(404, "Invalid URL").body())


OpenAIImagesFake.handler_class = OpenAIImagesHandler

if __name__ == "__main__":
    main(OpenAIImagesFake)
