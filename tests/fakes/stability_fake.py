"""A Stability AI fake on 127.0.0.1: POST /v2beta/stable-image/generate/{ultra,core,sd3}, multipart/form-data only,
`Authorization: Bearer`, `Accept: image/*` (the image itself; seed and finish-reason in headers) or
`application/json` ({"image": base64, "seed", "finish_reason"}).

Every form is checked against the fields its endpoint accepts: an unknown field (a part named `none` with no
content, as the service's own examples send, excepted) is a 400 naming it; prompt 1-10000 characters; aspect_ratio
of the nine the service offers, and only without an input image; seed 0-4294967294; output_format png, jpeg or webp
(sd3: png or jpeg); an input image needs strength 0-1 and must decode; core takes no image; sd3's model and mode
must agree with the image; sd3.5-large-turbo takes no negative_prompt. Images come back at the size the service
renders: the aspect ratio's ~1 MP size, or the input image's shape at ~1 MP.

Errors as the service words them ({"id", "name", "errors": [...]}): 401 (no key, or "bad-key"), 403
content_moderation (a prompt with FORBIDDEN), and injected faults: `inject("generate", {"status": 429, ...,
"headers": {"Retry-After": "2"}})`, 402, 5xx, drops; `inject("job", {"finish_reason": "CONTENT_FILTERED"})` shapes the
next image.
"""
from __future__ import annotations

import base64
import math
import uuid
from typing import Any

from tests.fakes.clips import main
from tests.fakes.image_service import ImageFake, ImageHandler, MultipartError, image_size_of, make_image, \
    parse_multipart

NATIVE = {"16:9": (1344, 768), "1:1": (1024, 1024), "21:9": (1536, 640), "2:3": (832, 1216), "3:2": (1216, 832),
          "4:5": (896, 1088), "5:4": (1088, 896), "9:16": (768, 1344), "9:21": (640, 1536)}
FIELDS = {
    "ultra": {"prompt", "negative_prompt", "aspect_ratio", "seed", "style_preset", "output_format", "image",
              "strength"},
    "core": {"prompt", "negative_prompt", "aspect_ratio", "seed", "style_preset", "output_format"},
    "sd3": {"prompt", "mode", "image", "strength", "aspect_ratio", "model", "seed", "output_format",
            "negative_prompt", "cfg_scale", "style_preset"},
}
SD3_MODELS = ("sd3.5-large", "sd3.5-large-turbo", "sd3.5-medium", "sd3.5-flash")


class StabilityError(Exception):
    def __init__(self, status: int, name: str, *messages: str):
        super().__init__("; ".join(messages))
        self.status, self.name, self.messages = status, name, list(messages)

    def body(self) -> dict:
        return {"id": uuid.uuid4().hex, "name": self.name, "errors": self.messages}


def bad(message: str) -> StabilityError:
    return StabilityError(400, "bad_request", message)


class StabilityFake(ImageFake):
    def validate(self, endpoint: str, fields: dict[str, list[str]], files: dict[str, list[dict]]) -> dict:
        # the service's own examples send a `none` part so that a text-only form is multipart
        files = {k: v for k, v in files.items() if not (k == "none" and not any(f["data"] for f in v))}
        fields = {k: v for k, v in fields.items() if not (k == "none" and not any(v))}
        for name in list(fields) + list(files):
            if name not in FIELDS[endpoint]:
                raise bad(f"{name}: unknown field; allowed: {', '.join(sorted(FIELDS[endpoint]))}")
        for name, values in fields.items():
            if len(values) > 1:
                raise bad(f"{name}: given {len(values)} times")
        f = {k: v[0] for k, v in fields.items()}
        prompt = f.get("prompt", "")
        if not 1 <= len(prompt) <= 10000:
            raise bad("prompt: required, 1 to 10000 characters")
        fmt = f.get("output_format", "png")
        formats = ("png", "jpeg") if endpoint == "sd3" else ("png", "jpeg", "webp")
        if fmt not in formats:
            raise bad(f"output_format: must be one of {', '.join(formats)}")
        if "seed" in f:
            if not f["seed"].isdigit() or int(f["seed"]) > 4294967294:
                raise bad("seed: must be an integer from 0 to 4294967294")
        image = (files.get("image") or [None])[0]
        mode = f.get("mode", "text-to-image")
        if endpoint == "sd3":
            if f.get("model", "sd3.5-large") not in SD3_MODELS:
                raise bad(f"model: must be one of {', '.join(SD3_MODELS)}")
            if mode not in ("text-to-image", "image-to-image"):
                raise bad("mode: must be text-to-image or image-to-image")
            if (mode == "image-to-image") != (image is not None):
                raise bad("image: required in image-to-image mode, and only there")
            if f.get("model") == "sd3.5-large-turbo" and "negative_prompt" in f:
                raise bad("negative_prompt: not supported by sd3.5-large-turbo")
        size = NATIVE.get(f.get("aspect_ratio", "1:1"))
        if size is None:
            raise bad(f"aspect_ratio: must be one of {', '.join(NATIVE)}")
        if image is not None:
            if "aspect_ratio" in f:
                raise bad("aspect_ratio: not valid with an input image (the output keeps its shape)")
            shape = image_size_of(image["data"])
            if shape is None:
                raise bad("image: could not be decoded as an image")
            try:
                strength = float(f.get("strength", ""))
            except ValueError:
                raise bad("strength: required with an image, a number from 0 to 1") from None
            if not 0 <= strength <= 1:
                raise bad("strength: must be from 0 to 1")
            scale = math.sqrt(1024 * 1024 / (shape[0] * shape[1]))
            size = (max(64, int(shape[0] * scale) // 64 * 64), max(64, int(shape[1] * scale) // 64 * 64))
        elif "strength" in f:
            raise bad("strength: only valid with an image")
        if "FORBIDDEN" in prompt:
            raise StabilityError(403, "content_moderation", "Your request was flagged by our content moderation "
                                 "system, as a result your request was denied and you were not charged.")
        seed = int(f.get("seed") or 0) or (uuid.uuid4().int % 4294967294) + 1
        return {"size": size, "format": fmt, "seed": seed, "prompt": prompt}


class StabilityHandler(ImageHandler):
    def do_POST(self):
        fake: StabilityFake = self.fake  # type: ignore[assignment]
        path = self.path.split("?")[0]
        if self.serve_admin_post():
            return
        endpoint = path.rpartition("/")[2]
        if not path.startswith("/v2beta/stable-image/generate/") or endpoint not in FIELDS:
            self.send(404, StabilityError(404, "not_found", f"{path}: no such endpoint").body())
            return
        fake.bump("submit_attempts")
        raw = self.body()
        entry: dict[str, Any] = {"method": "POST", "path": path, "auth": self.auth_kind(),
                                 "accept": self.headers.get("Accept"),
                                 "content_type": (self.headers.get("Content-Type") or "").split(";")[0]}
        try:
            fields, files = parse_multipart(self.headers.get("Content-Type") or "", raw)
        except MultipartError as exc:
            entry["fields"] = None
            fake.record(entry)
            self.send(400, bad(f"the body must be multipart/form-data ({exc})").body())
            return
        entry["fields"] = {k: (v[0] if len(v) == 1 else v) for k, v in fields.items()}
        entry["files"] = self.file_summary(files)
        fake.record(entry)
        key = self.bearer()
        if not key:
            self.send(401, StabilityError(401, "unauthorized", "authorization: missing").body())
            return
        if key == "bad-key":
            self.send(401, StabilityError(401, "unauthorized", "authorization: the API key is not valid").body())
            return
        accept = self.headers.get("Accept") or "image/*"
        if accept not in ("image/*", "application/json"):
            self.send(400, bad("accept: must be image/* or application/json").body())
            return
        if self.apply_fault("generate"):
            fake.save()
            return
        try:
            job = fake.validate(endpoint, fields, files)
        except StabilityError as exc:
            self.send(exc.status, exc.body())
            return
        outcome = fake.take_fault("job") or {}
        finish = outcome.get("finish_reason", "SUCCESS")
        fmt = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[job["format"]]
        data = make_image(*job["size"], f"{job['prompt']}|{job['seed']}", fmt)
        fake.bump("submissions")
        if accept == "application/json":
            self.send(200, {"image": base64.b64encode(data).decode(), "finish_reason": finish, "seed": job["seed"]})
        else:
            self.send(200, raw=data, content_type=f"image/{job['format']}",
                      headers={"finish-reason": finish, "seed": str(job["seed"])})

    def do_GET(self):
        if not self.serve_common_get():
            self.send(404, StabilityError(404, "not_found", "no such route").body())


StabilityFake.handler_class = StabilityHandler

if __name__ == "__main__":
    main(StabilityFake)
