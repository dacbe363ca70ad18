"""A Google Veo fake on 127.0.0.1 that speaks both wire protocols google-genai 2.34 uses (cloud-apis.md §4.3), on one
port, as IMAGEAI_GEMINI_URL and IMAGEAI_VERTEX_URL point at it:

- Gemini API (v1beta, `x-goog-api-key`): POST models/{model}:predictLongRunning -> {"name"}; GET
  models/{model}/operations/{id}; GET files/{id}:download?alt=media (a redirect to the media, as the real one does).
  Results name their file by the real https://generativelanguage.googleapis.com/... uri: the SDK only extracts the
  file id from an https uri and downloads it from the overridden base URL.
- Vertex AI (v1beta1): POST [projects/{p}/locations/{l}/]publishers/google/models/{model}:predictLongRunning and
  :fetchPredictOperation {"operationName"}; express mode (`x-goog-api-key`) or a project (`Authorization: Bearer`);
  the clip comes back inline (bytesBase64Encoded).

Every request body is checked as the real services check it: an unknown field is a 400 naming it; a wrong type or
value is a 400 naming the field and what is allowed; rules between fields (1080p/4k only at 8 s, references only at
8 s and 16:9, extension input at most 720p, person generation per mode) are 400s too. Clips are real MP4s of the
length the job makes (an extension returns the input plus 7 s), small by default, full size with `full_size`.

Faults: `inject("submit"|"status"|"download", {...})` as in tests/fakes/clips.py (429 + Retry-After, 5xx, drops);
`inject("job", {"filtered": [reason]} | {"error": {"code", "message"}} | {"never_finish": True})` shapes the result of
the next submitted job.

Run alone: python -m tests.fakes.veo_fake --port N --state FILE [--latency S]
"""
from __future__ import annotations

import base64
import binascii
import json
import re
import time
import uuid
from typing import Any, Optional

from tests.fakes.clips import FakeHandler, FakeService, main, make_clip, seconds_of

GEMINI_MODELS = ("veo-3.1-generate-preview", "veo-3.1-fast-generate-preview", "veo-3.1-lite-generate-preview")
VERTEX_MODELS = ("veo-3.1-generate-001", "veo-3.1-fast-generate-001")
LITE = "veo-3.1-lite-generate-preview"
FILES_URI = "https://generativelanguage.googleapis.com/v1beta/files/{fid}:download?alt=media"
EXTENSION_SECONDS = 7.0
MAX_TOTAL_SECONDS = 148.0  # 8 s + 20 extensions of 7 s

_IMAGE_GEMINI = {"bytesBase64Encoded": str, "mimeType": str}
_IMAGE_VERTEX = {**_IMAGE_GEMINI, "gcsUri": str}
SCHEMA = {
    "gemini": {
        "instance": {"prompt": str, "image": _IMAGE_GEMINI, "lastFrame": _IMAGE_GEMINI, "video": {"uri": str},
                     "referenceImages": [{"image": _IMAGE_GEMINI, "referenceType": str}]},
        "parameters": {"sampleCount": int, "durationSeconds": int, "aspectRatio": str, "resolution": str,
                       "personGeneration": str, "negativePrompt": str, "enhancePrompt": bool},
    },
    "vertex": {
        "instance": {"prompt": str, "image": _IMAGE_VERTEX, "lastFrame": _IMAGE_VERTEX,
                     "video": {"gcsUri": str, "bytesBase64Encoded": str, "mimeType": str},
                     "referenceImages": [{"image": _IMAGE_VERTEX, "referenceType": str}]},
        "parameters": {"sampleCount": int, "durationSeconds": int, "aspectRatio": str, "resolution": str,
                       "personGeneration": str, "negativePrompt": str, "enhancePrompt": bool, "generateAudio": bool,
                       "seed": int, "storageUri": str, "compressionQuality": str, "resizeMode": str},
    },
}
SHORT_SIDE = {"720p": 720, "1080p": 1080, "4k": 2160}


class BadRequest(Exception):
    def __init__(self, message: str, status: str = "INVALID_ARGUMENT", code: int = 400, field: str = ""):
        super().__init__(message)
        self.message, self.status, self.code, self.field = message, status, code, field


def _check_shape(value: Any, schema: Any, where: str) -> None:
    """Types and unknown fields, as the services' JSON parsers report them."""
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            raise BadRequest(f"Invalid value at '{where}': expected an object", field=where)
        for key, item in value.items():
            if key not in schema:
                raise BadRequest(f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': Cannot find "
                                 "field.", field=f"{where}.{key}")
            _check_shape(item, schema[key], f"{where}.{key}")
    elif isinstance(schema, list):
        if not isinstance(value, list):
            raise BadRequest(f"Invalid value at '{where}': expected a list", field=where)
        for i, item in enumerate(value):
            _check_shape(item, schema[0], f"{where}[{i}]")
    elif schema is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadRequest(f"Invalid value at '{where}' (TYPE_INT32), {json.dumps(value)}", field=where)
    elif not isinstance(value, schema):
        raise BadRequest(f"Invalid value at '{where}' ({schema.__name__.upper()}), {json.dumps(value)}", field=where)


def _image_bytes(img: dict, where: str) -> bytes:
    if "gcsUri" in img:
        raise BadRequest(f"{where}.gcsUri: the fake holds no Cloud Storage", field=f"{where}.gcsUri")
    mime = img.get("mimeType")
    if mime not in ("image/png", "image/jpeg", "image/webp"):
        raise BadRequest(f"{where}.mimeType {mime!r} is not supported; use image/png, image/jpeg or image/webp",
                         field=f"{where}.mimeType")
    try:
        data = base64.b64decode(img.get("bytesBase64Encoded") or "", validate=True)
    except binascii.Error:
        raise BadRequest(f"{where}.bytesBase64Encoded is not base64", field=f"{where}.bytesBase64Encoded") from None
    if not (data.startswith(b"\x89PNG") or data.startswith(b"\xff\xd8") or data[8:12] == b"WEBP"):
        raise BadRequest(f"{where}: the image could not be decoded", field=where)
    return data


class VeoFake(FakeService):
    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.full_size = False          # serve clips at their real frame size (slower); small ones otherwise
        self.vertex_allow_all = False   # Vertex: allow_all person generation needs an allowlisted project
        self.fps = 24                   # frame rate of the clips served (a full-size clip at 1 fps is cheap)

    # ---- the rules of the service ----
    def validate(self, api: str, model: str, body: Any) -> dict:
        """The parsed job: mode, length, size. Raises BadRequest as the real service answers."""
        models = GEMINI_MODELS if api == "gemini" else VERTEX_MODELS
        if model not in models:
            version = "v1beta" if api == "gemini" else "v1beta1"
            raise BadRequest(f"models/{model} is not found for API version {version}, or is not supported for "
                             "predictLongRunning.", "NOT_FOUND", 404, field="model")
        if not isinstance(body, dict):
            raise BadRequest("Invalid JSON payload received.", field="body")
        for key in body:
            if key not in ("instances", "parameters"):
                raise BadRequest(f"Invalid JSON payload received. Unknown name \"{key}\": Cannot find field.",
                                 field=key)
        instances = body.get("instances")
        if not isinstance(instances, list) or len(instances) != 1:
            raise BadRequest("instances: exactly one instance is required", field="instances")
        schema = SCHEMA[api]
        _check_shape(instances[0], schema["instance"], "instances[0]")
        params = body.get("parameters") or {}
        _check_shape(params, schema["parameters"], "parameters")
        inst = instances[0]
        return self._rules(api, model, inst, params)

    def _rules(self, api: str, model: str, inst: dict, params: dict) -> dict:
        def allowed(field: str, value: Any, values: tuple) -> None:
            if value not in values:
                raise BadRequest(f"parameters.{field}: {value!r} is not supported; allowed: "
                                 f"{', '.join(str(v) for v in values)}", field=f"parameters.{field}")

        duration = params.get("durationSeconds", 8)
        resolution = params.get("resolution", "720p")
        aspect = params.get("aspectRatio", "16:9")
        allowed("durationSeconds", duration, (4, 6, 8))
        allowed("resolution", resolution, ("720p", "1080p") if model == LITE else ("720p", "1080p", "4k"))
        allowed("aspectRatio", aspect, ("16:9", "9:16"))
        allowed("sampleCount", params.get("sampleCount", 1), (1, 2, 3, 4))
        if "seed" in params and not 0 <= params["seed"] <= 4294967295:
            raise BadRequest("parameters.seed must be in [0, 4294967295]", field="parameters.seed")
        if resolution != "720p" and duration != 8:
            raise BadRequest(f"parameters.durationSeconds must be 8 for {resolution} (got {duration})",
                             field="parameters.durationSeconds")
        image, last, video, refs = inst.get("image"), inst.get("lastFrame"), inst.get("video"), \
            inst.get("referenceImages")
        if image is not None:
            _image_bytes(image, "instances[0].image")
        if last is not None:
            _image_bytes(last, "instances[0].lastFrame")
            if image is None:
                raise BadRequest("instances[0].lastFrame needs instances[0].image (the first frame)",
                                 field="instances[0].lastFrame")
        if not inst.get("prompt") and image is None and video is None:
            raise BadRequest("instances[0].prompt is required without an image or a video", field="instances[0].prompt")
        mode = "text-to-video"
        source_seconds = 0.0
        width = height = served = None
        if refs is not None:
            mode = "reference-images"
            if model == LITE:
                raise BadRequest(f"referenceImages is not supported by {model}", field="instances[0].referenceImages")
            if not 1 <= len(refs) <= 3:
                raise BadRequest(f"instances[0].referenceImages: 1 to 3 images (got {len(refs)})",
                                 field="instances[0].referenceImages")
            for i, ref in enumerate(refs):
                _image_bytes(ref.get("image") or {}, f"instances[0].referenceImages[{i}].image")
                if str(ref.get("referenceType", "")).lower() != "asset":
                    raise BadRequest(f"instances[0].referenceImages[{i}].referenceType must be asset",
                                     field=f"instances[0].referenceImages[{i}].referenceType")
            if image is not None or last is not None or video is not None:
                raise BadRequest("instances[0].referenceImages cannot be combined with image, lastFrame or video",
                                 field="instances[0].referenceImages")
            if duration != 8 or aspect != "16:9":
                raise BadRequest("referenceImages need parameters.durationSeconds 8 and parameters.aspectRatio 16:9",
                                 field="parameters.durationSeconds")
        elif video is not None:
            mode = "extend"
            if model == LITE:
                raise BadRequest(f"video extension is not supported by {model}", field="instances[0].video")
            if image is not None or last is not None:
                raise BadRequest("instances[0].video cannot be combined with image or lastFrame",
                                 field="instances[0].video")
            if resolution != "720p":
                raise BadRequest("parameters.resolution must be 720p to extend a video", field="parameters.resolution")
            source_seconds, width, height, served = self._source_video(api, video)
            if min(width, height) > 720:
                raise BadRequest(f"instances[0].video is {width}x{height}; extension takes at most 720p",
                                 field="instances[0].video")
            if source_seconds + EXTENSION_SECONDS > MAX_TOTAL_SECONDS + 0.5:
                raise BadRequest(f"instances[0].video is {source_seconds:.1f} s; extended videos end at "
                                 f"{MAX_TOTAL_SECONDS:g} s", field="instances[0].video")
        elif last is not None:
            mode = "first-last-frame"
        elif image is not None:
            mode = "image-to-video"
        self._person(api, mode, params.get("personGeneration"))
        seconds = source_seconds + EXTENSION_SECONDS if mode == "extend" else float(duration)
        if width is None:
            short = SHORT_SIDE[resolution]
            long_side = short * 16 // 9
            width, height = (long_side, short) if aspect == "16:9" else (short, long_side)
        audio = True if api == "gemini" else bool(params.get("generateAudio", False))
        facts = {"mode": mode, "seconds": seconds, "width": width, "height": height, "audio": audio,
                 "resolution": resolution, "samples": params.get("sampleCount", 1)}
        if served:  # an extension keeps the frame of the clip it extends
            facts["served"] = served
        return facts

    def _person(self, api: str, mode: str, value: Optional[str]) -> None:
        if value is None:
            return
        if value not in ("allow_all", "allow_adult", "dont_allow"):
            raise BadRequest(f"parameters.personGeneration {value!r} is not supported; allowed: allow_all, "
                             "allow_adult, dont_allow", field="parameters.personGeneration")
        if api == "gemini":
            only = "allow_all" if mode in ("text-to-video", "extend") else "allow_adult"
            if value != only:
                raise BadRequest(f"parameters.personGeneration: {value} is not supported for {mode}; use {only}",
                                 field="parameters.personGeneration")
        elif value == "allow_all" and not self.vertex_allow_all:
            raise BadRequest("parameters.personGeneration allow_all needs a project on the allowlist",
                             "FAILED_PRECONDITION", 400, field="parameters.personGeneration")

    def _source_video(self, api: str, video: dict) -> tuple[float, int, int, tuple[int, int]]:
        """(seconds, width, height, served size) of the clip an extension continues."""
        if api == "gemini":
            m = re.match(r"https://generativelanguage\.googleapis\.com/v1beta/files/([a-z0-9]+)", video.get("uri", ""))
            job = self.jobs.get(self.file_jobs.get(m.group(1), "")) if m else None
            if job is None:
                raise BadRequest("instances[0].video.uri must name a video Veo generated", field="instances[0].video")
            return job["seconds"], job["width"], job["height"], job["served"]
        if "gcsUri" in video:
            raise BadRequest("instances[0].video.gcsUri: the fake holds no Cloud Storage", field="instances[0].video")
        try:
            data = base64.b64decode(video.get("bytesBase64Encoded") or "", validate=True)
        except binascii.Error:
            raise BadRequest("instances[0].video.bytesBase64Encoded is not base64",
                             field="instances[0].video") from None
        from core.video.media import probe
        import tempfile
        from pathlib import Path
        with tempfile.NamedTemporaryFile(suffix=".mp4") as fh:
            fh.write(data)
            fh.flush()
            info = probe(Path(fh.name))
        # the fake serves small clips: map their size back to the size they stand for
        job = next((j for j in self.jobs.values() if j.get("served") == (info.width, info.height)), None)
        width, height = (job["width"], job["height"]) if job else (info.width, info.height)
        return seconds_of(data), width, height, (info.width, info.height)

    @property
    def file_jobs(self) -> dict[str, str]:
        return {j["fid"]: jid for jid, j in self.jobs.items() if j.get("fid")}

    # ---- jobs ----
    def create(self, api: str, model: str, prefix: str, body: dict, facts: dict) -> str:
        outcome = self.take_fault("job") or {}
        jid = uuid.uuid4().hex[:16]
        name = f"{prefix}/operations/{jid}"
        served = facts.pop("served", None) or ((facts["width"], facts["height"]) if self.full_size else
                                               _small(facts["width"], facts["height"]))
        with self.lock:
            self.jobs[jid] = {"api": api, "model": model, "name": name, "body": body, "t0": time.monotonic(),
                              "fid": uuid.uuid4().hex[:12], "served": served,
                              "never_finish": bool(outcome.get("never_finish")), "outcome": outcome, **facts}
        self.bump("submissions")
        return name

    def job_by_name(self, name: str) -> Optional[dict]:
        jid = name.rpartition("/operations/")[2]
        job = self.jobs.get(jid)
        return job if job is not None and job["name"] == name else None

    def clip(self, job: dict) -> bytes:
        w, h = job["served"]
        return make_clip(job["seconds"], self.fps, w, h, audio=job["audio"])

    def operation(self, job: dict) -> dict:
        if self.phase(job) != "done":
            return {"name": job["name"], "metadata": {"@type": "type.googleapis.com/google.ai.generativelanguage."
                                                               "v1beta.PredictLongRunningMetadata"}}
        outcome = job["outcome"]
        if "error" in outcome:
            return {"name": job["name"], "done": True, "error": outcome["error"]}
        filtered = outcome.get("filtered")
        if job["api"] == "gemini":
            res: dict = {"generatedSamples": [] if filtered else
                         [{"video": {"uri": FILES_URI.format(fid=job["fid"])}} for _ in range(job["samples"])]}
            if filtered:
                res.update(raiMediaFilteredCount=1, raiMediaFilteredReasons=list(filtered))
                res.pop("generatedSamples")
            return {"name": job["name"], "done": True, "response": {
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
                "generateVideoResponse": res}}
        res = {"@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse",
               "raiMediaFilteredCount": 1 if filtered else 0}
        if filtered:
            res["raiMediaFilteredReasons"] = list(filtered)
        else:
            data = base64.b64encode(self.clip(job)).decode()
            res["videos"] = [{"bytesBase64Encoded": data, "mimeType": "video/mp4"} for _ in range(job["samples"])]
        return {"name": job["name"], "done": True, "response": res}


def _small(width: int, height: int) -> tuple[int, int]:
    """A frame of the same shape at 1/10 of the size (even sides), so tests stay fast."""
    return max(16, width // 20 * 2), max(16, height // 20 * 2)


def _error(exc: BadRequest) -> dict:
    return {"error": {"code": exc.code, "message": exc.message, "status": exc.status,
                      "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                                   "fieldViolations": [{"field": exc.field, "description": exc.message}]}]}}


_GEMINI_SUBMIT = re.compile(r"^/v1beta/models/([^/:]+):predictLongRunning$")
_GEMINI_OP = re.compile(r"^/v1beta/(models/[^/]+/operations/[^/]+)$")
_GEMINI_FILE = re.compile(r"^/v1beta/files/([a-z0-9]+):download$")
_VERTEX = re.compile(r"^/v1beta1/((?:projects/[^/]+/locations/[^/]+/)?publishers/google/models/([^/:]+))"
                     r":(predictLongRunning|fetchPredictOperation)$")


class VeoHandler(FakeHandler):
    def _record(self, path: str, body: Any) -> None:
        auth = "key" if self.headers.get("x-goog-api-key") else (
            "bearer" if (self.headers.get("Authorization") or "").startswith("Bearer ") else "")
        with self.fake.lock:
            self.fake.requests.append({"method": self.command, "path": path, "body": body, "auth": auth})

    def _auth(self, api: str, prefix: str = "") -> bool:
        key = self.headers.get("x-goog-api-key")
        bearer = (self.headers.get("Authorization") or "").startswith("Bearer ")
        if key == "bad-key":
            self.send(400, {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                                      "status": "INVALID_ARGUMENT"}})
            return False
        ok = bool(key) if api == "gemini" or not prefix.startswith("projects/") else bearer
        if not ok:
            self.send(401 if api == "vertex" else 403, {"error": {
                "code": 401 if api == "vertex" else 403, "status": "UNAUTHENTICATED" if api == "vertex"
                else "PERMISSION_DENIED", "message": "Method doesn't allow unregistered callers (callers without "
                "established identity). Please use API Key or other form of API consumer identity to call this "
                "API."}})
        return ok

    def _json_body(self) -> Any:
        raw = self.body()
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return None

    def do_POST(self):
        fake: VeoFake = self.fake  # type: ignore[assignment]
        path = self.path.split("?")[0]
        if path == "/_admin/config":
            spec = self._json_body() or {}
            for key in ("full_size", "vertex_allow_all", "fps"):
                if key in spec:
                    setattr(fake, key, spec[key])
            for key in ("latency", "queue_time", "never_finish"):
                if key in spec:
                    setattr(fake, key, spec[key])
            self.send(200, {"ok": True})
            return
        if self.serve_admin_post():
            return
        m = _GEMINI_SUBMIT.match(path)
        v = _VERTEX.match(path)
        if m or (v and v.group(3) == "predictLongRunning"):
            api, model = ("gemini", m.group(1)) if m else ("vertex", v.group(2))
            prefix = f"models/{model}" if m else v.group(1)
            self._submit(fake, api, model, prefix, path)
            return
        if v:  # fetchPredictOperation
            body = self._json_body()
            self._record(path, body)
            if not self._auth("vertex", v.group(1)):
                return
            self._poll(fake, (body or {}).get("operationName", ""), v.group(1))
            return
        self.send(404, {"error": {"code": 404, "message": f"{path} not found", "status": "NOT_FOUND"}})

    def _submit(self, fake: VeoFake, api: str, model: str, prefix: str, path: str) -> None:
        fake.bump("submit_attempts")
        body = self._json_body()
        self._record(path, body)
        if not self._auth(api, prefix):
            return
        if self.apply_fault("submit"):
            fake.save()
            return
        if body is None:
            self.send(400, _error(BadRequest("Invalid JSON payload received.", field="body")))
            return
        try:
            facts = fake.validate(api, model, body)
        except BadRequest as exc:
            self.send(exc.code, _error(exc))
            return
        self.send(200, {"name": fake.create(api, model, prefix, body, facts)})

    def _poll(self, fake: VeoFake, name: str, prefix: Optional[str] = None) -> None:
        fake.bump("status_polls")
        if self.apply_fault("status"):
            return
        job = fake.job_by_name(name)
        if job is None or (prefix is not None and not name.startswith(prefix + "/operations/")):
            self.send(404, {"error": {"code": 404, "message": f"Operation {name} not found", "status": "NOT_FOUND"}})
            return
        self.send(200, fake.operation(job))

    def do_GET(self):
        fake: VeoFake = self.fake  # type: ignore[assignment]
        path, _, query = self.path.partition("?")
        if path.startswith("/_media/"):
            job = fake.file_jobs.get(path[len("/_media/"):].split(".")[0])
            if job is None:
                self.send(404, {"error": {"code": 404, "message": "no such media", "status": "NOT_FOUND"}})
            else:
                self.serve_file(fake.clip(fake.jobs[job]), "video/mp4")
            return
        if self.serve_common_get():
            return
        m = _GEMINI_OP.match(path)
        if m:
            self._record(path, None)
            if self._auth("gemini"):
                self._poll(fake, m.group(1))
            return
        m = _GEMINI_FILE.match(path)
        if m:
            self._record(path + ("?" + query if query else ""), None)
            if not self._auth("gemini"):
                return
            if self.apply_fault("download"):
                return
            if "alt=media" not in query or m.group(1) not in fake.file_jobs:
                self.send(404, {"error": {"code": 404, "message": "File not found", "status": "NOT_FOUND"}})
                return
            # the real service answers with a redirect to the bytes; the SDK follows it
            self.send(302, {}, headers={"Location": f"{fake.url}/_media/{m.group(1)}.mp4"})
            return
        self.send(404, {"error": {"code": 404, "message": f"{path} not found", "status": "NOT_FOUND"}})


VeoFake.handler_class = VeoHandler

if __name__ == "__main__":
    main(VeoFake)
