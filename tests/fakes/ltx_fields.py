"""The fields each LTX endpoint accepts, per endpoint family, so the fakes refuse a body the real service would:
an unknown field, a missing required one, or a value of the wrong type or outside the documented choices answers
422 naming the field. Sources: ../shared/research/cloud-apis.md (fal 1.2.1-1.2.5 from @fal-ai/client 1.10.1's
types; Replicate 2.1 from the model pages) and Docs/ltx-models.md (LTX-2.5).

A fake that took any body would hide a setting the backend dropped or sent under the wrong name.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

# ---- value checks: each returns None when the value is fine, else what is wrong ----
Check = Callable[[Any], Optional[str]]


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def STR(v: Any) -> Optional[str]:
    return None if isinstance(v, str) else "must be a string"


def BOOL(v: Any) -> Optional[str]:
    return None if isinstance(v, bool) else "must be a boolean"


def INT(v: Any) -> Optional[str]:
    return None if isinstance(v, int) and not isinstance(v, bool) else "must be an integer"


def NUM(v: Any) -> Optional[str]:
    return None if _is_num(v) else "must be a number"


def URL(v: Any) -> Optional[str]:
    ok = isinstance(v, str) and v.startswith(("http://", "https://", "data:"))
    return None if ok else "must be a URL or a data URI"


def between(lo: float, hi: float, *, integer: bool = False) -> Check:
    def check(v: Any) -> Optional[str]:
        if not _is_num(v) or (integer and isinstance(v, float)):
            return "must be an integer" if integer else "must be a number"
        return None if lo <= v <= hi else f"must be between {lo:g} and {hi:g}"
    return check


def one_of(*values: Any, numeric_strings: bool = False) -> Check:
    """An enum. fal's types give some numbers as string literals ("6", "25"); with numeric_strings both forms pass
    (cloud-apis.md 1.2.1: send numbers, accept either)."""
    def check(v: Any) -> Optional[str]:
        if isinstance(v, bool):
            return f"must be one of {', '.join(map(str, values))}"
        candidates = [v]
        if numeric_strings and isinstance(v, str):
            try:
                candidates.append(float(v))
            except ValueError:
                pass
        if any(c == w and type(c) is not bool for c in candidates for w in values):
            return None
        return f"must be one of {', '.join(map(str, values))}"
    return check


def int_of(*values: int) -> Check:
    """An integer enum (Replicate's Cog schemas refuse 6.0 where an integer is asked for)."""
    choice = one_of(*values)

    def check(v: Any) -> Optional[str]:
        return INT(v) or choice(v)
    return check


def obj(fields: dict[str, Check], required: tuple[str, ...] = ()) -> Check:
    def check(v: Any) -> Optional[str]:
        if not isinstance(v, dict):
            return "must be an object"
        problems = _problems(v, fields, required)
        return "; ".join(f"{k}: {m}" for k, m in problems) or None
    return check


def list_of(item: Check) -> Check:
    def check(v: Any) -> Optional[str]:
        if not isinstance(v, list):
            return "must be a list"
        for i, x in enumerate(v):
            wrong = item(x)
            if wrong:
                return f"[{i}] {wrong}"
        return None
    return check


def either(*checks: Check) -> Check:
    def check(v: Any) -> Optional[str]:
        wrongs = [c(v) for c in checks]
        return None if any(w is None for w in wrongs) else " or ".join(w for w in wrongs if w)
    return check


@dataclass
class Schema:
    """One endpoint family's input: field -> check, and the required fields."""

    name: str
    fields: dict[str, Check]
    required: tuple[str, ...] = ("prompt",)
    notes: list[str] = field(default_factory=list)

    def problems(self, body: Any) -> list[tuple[str, str]]:
        if not isinstance(body, dict):
            return [("body", "must be a JSON object")]
        return _problems(body, self.fields, self.required)


def _problems(body: dict, fields: dict[str, Check], required: tuple[str, ...]) -> list[tuple[str, str]]:
    out = [(k, "field required") for k in required if k not in body]
    for k, v in body.items():
        if k not in fields:
            out.append((k, "extra fields not permitted"))
            continue
        wrong = fields[k](v)
        if wrong:
            out.append((k, wrong))
    return out


def _with(base: dict[str, Check], **more: Check) -> dict[str, Check]:
    return {**base, **more}


# ====================================================================== fal
HOSTED_RES = one_of("1080p", "1440p", "2160p")
FAST_DURATIONS = (6, 8, 10, 12, 14, 16, 18, 20)
CAMERA_LORAS = ("dolly_in", "dolly_out", "dolly_left", "dolly_right", "jib_up", "jib_down", "static")

_LTX2_GEN = {"prompt": STR, "resolution": HOSTED_RES, "fps": one_of(25, 50, numeric_strings=True),
             "generate_audio": BOOL}
_LTX23_GEN = _with(_LTX2_GEN, fps=one_of(24, 25, 48, 50, numeric_strings=True))


def _hosted(gen: dict, durations: tuple, *, image: bool, end_image: bool, aspect: Optional[Check]) -> dict:
    f = _with(gen, duration=one_of(*durations, numeric_strings=True))
    if aspect is not None:
        f["aspect_ratio"] = aspect
    if image:
        f["image_url"] = URL
    if end_image:
        f["end_image_url"] = URL
    return f


# LTX-2 / 2.3 retake and extend (1.2.2)
_RETAKE = Schema("fal LTX-2 retake", {"video_url": URL, "prompt": STR, "start_time": between(0, 20),
                                       "duration": between(2, 20),
                                       "retake_mode": one_of("replace_audio", "replace_video",
                                                             "replace_audio_and_video")},
                 required=("video_url", "prompt"))
_EXTEND = Schema("fal LTX-2 extend", {"video_url": URL, "prompt": STR, "duration": between(0, 20),
                                       "mode": one_of("start", "end"), "context": between(1, 20)},
                 required=("video_url",))

# LTX-2.5 (Docs/ltx-models.md): lightricks/ltx-2.5/{text,image}-to-video/{fast,pro}; a native camera_motion; the
# image endpoint takes an end frame; duration may also be "auto"
_LTX25_CAMERA = one_of(*[c for c in CAMERA_LORAS], "focus_shift")


def _ltx25(tier: str, image: bool) -> Schema:
    fast = tier == "fast"
    f = {"prompt": STR, "generate_audio": BOOL, "camera_motion": _LTX25_CAMERA,
         "resolution": one_of("720p", "1080p", "1440p", "2160p") if fast else one_of("720p", "1080p"),
         "fps": one_of(24, 25, 48, 50, numeric_strings=True) if fast else one_of(24, 25, 50, numeric_strings=True),
         "duration": one_of(*(FAST_DURATIONS if fast else (6, 8, 10)), "auto", numeric_strings=True),
         "aspect_ratio": one_of("auto", "16:9", "9:16") if image else one_of("16:9", "9:16")}
    if image:
        f.update(image_url=URL, end_image_url=URL)
    return Schema(f"fal LTX-2.5 {tier} {'image' if image else 'text'}-to-video", f,
                  required=("prompt", "image_url") if image else ("prompt",))


# LTX-2 19B open weights (1.2.3)
_VIDEO_SIZE = either(one_of("square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3",
                            "landscape_16_9", "auto"),
                     obj({"width": between(1, 8192, integer=True), "height": between(1, 8192, integer=True)},
                         required=("width", "height")))
_LORA_WEIGHT = obj({"path": STR, "scale": NUM, "weight_name": STR}, required=("path",))
_19B_COMMON = {
    "prompt": STR, "negative_prompt": STR, "num_frames": between(1, 481, integer=True), "fps": NUM,
    "generate_audio": BOOL, "use_multiscale": BOOL, "camera_lora": one_of(*CAMERA_LORAS, "none"),
    "camera_lora_scale": NUM, "enable_prompt_expansion": BOOL, "enable_safety_checker": BOOL, "seed": INT,
    "sync_mode": BOOL, "video_size": _VIDEO_SIZE,
    "video_output_type": one_of("X264 (.mp4)", "VP9 (.webm)", "PRORES4444 (.mov)", "GIF (.gif)"),
    "video_quality": one_of("low", "medium", "high", "maximum"), "video_write_mode": one_of("fast", "balanced", "small"),
    "acceleration": one_of("none", "regular", "high", "full"), "guidance_scale": NUM, "num_inference_steps": INT,
}
_19B_I2V = _with(_19B_COMMON, image_url=URL, image_strength=NUM, end_image_url=URL, end_image_strength=NUM,
                 interpolation_direction=one_of("forward", "backward"))
_19B_EXTEND = _with(_19B_COMMON, video_url=URL, video_strength=NUM, audio_strength=NUM,
                    extend_direction=one_of("forward", "backward"), num_context_frames=INT, match_input_fps=BOOL,
                    end_image_url=URL, end_image_strength=NUM)
_19B_V2V = _with(_19B_COMMON, video_url=URL, video_strength=NUM, audio_strength=NUM, image_url=URL,
                 image_strength=NUM, end_image_url=URL, end_image_strength=NUM, audio_url=URL, match_input_fps=BOOL,
                 match_video_length=BOOL,
                 ic_lora=one_of("match_preprocessor", "canny", "depth", "pose", "detailer", "none"),
                 ic_lora_scale=NUM, preprocessor=one_of("depth", "canny", "pose", "none"))


def _19b(name: str, fields: dict, required: tuple, lora: bool) -> Schema:
    # the /lora variants were not in the extracted types: the base fields plus `loras` (fal's LoRA endpoints)
    return Schema(f"fal LTX-2 19B {name}{' /lora' if lora else ''}",
                  _with(fields, loras=list_of(_LORA_WEIGHT)) if lora else fields, required=required)


# LTX-Video 13B distilled (1.2.5)
_IMAGE_COND = obj({"image_url": URL, "start_frame_num": INT, "strength": NUM}, required=("image_url",))
_VIDEO_COND = obj({"video_url": URL, "start_frame_num": INT, "strength": NUM,
                   "conditioning_type": one_of("rgb", "depth", "pose", "canny"), "preprocess": BOOL,
                   "limit_num_frames": BOOL, "max_num_frames": INT, "resample_fps": BOOL, "target_fps": INT,
                   "reverse_video": BOOL}, required=("video_url",))
_EXTEND_COND = obj({"video_url": URL, "start_frame_num": INT, "strength": NUM, "limit_num_frames": BOOL,
                    "max_num_frames": INT, "resample_fps": BOOL, "target_fps": INT, "reverse_video": BOOL},
                   required=("video_url",))
_13B_COMMON = {
    "prompt": STR, "negative_prompt": STR, "resolution": one_of("480p", "720p"), "num_frames": INT,
    "frame_rate": NUM, "enable_detail_pass": BOOL, "expand_prompt": BOOL, "reverse_video": BOOL,
    "temporal_adain_factor": NUM, "tone_map_compression_ratio": NUM, "enable_safety_checker": BOOL, "seed": INT,
    "loras": list_of(_LORA_WEIGHT), "first_pass_num_inference_steps": INT, "second_pass_num_inference_steps": INT,
    "second_pass_skip_initial_steps": INT,
}
_13B_T2V = Schema("fal LTX-Video 13B text-to-video", _with(_13B_COMMON, aspect_ratio=one_of("9:16", "1:1", "16:9")))
_13B_COND = _with(_13B_COMMON, aspect_ratio=one_of("auto", "9:16", "1:1", "16:9"), constant_rate_factor=INT)
_13B_I2V = Schema("fal LTX-Video 13B image-to-video", _with(_13B_COND, image_url=URL),
                  required=("prompt", "image_url"))
_13B_MULTI = Schema("fal LTX-Video 13B multiconditioning",
                    _with(_13B_COND, images=list_of(_IMAGE_COND), videos=list_of(_VIDEO_COND)))
_13B_EXTEND = Schema("fal LTX-Video 13B extend", _with(_13B_COND, video=_EXTEND_COND), required=("prompt", "video"))

# LTX-Video 0.9 2B (1.2.4)
_2B = {"prompt": STR, "negative_prompt": STR, "num_inference_steps": INT, "guidance_scale": NUM, "seed": INT}


def _fal_schemas() -> dict[str, Schema]:
    s: dict[str, Schema] = {}
    for version, gen in (("ltx-2", _LTX2_GEN), ("ltx-2.3", _LTX23_GEN)):
        aspect_t = one_of("16:9", "9:16") if version == "ltx-2.3" else None
        aspect_i = one_of("auto", "16:9", "9:16") if version == "ltx-2.3" else None
        for tier, durations in (("", (6, 8, 10)), ("/fast", FAST_DURATIONS)):
            s[f"fal-ai/{version}/text-to-video{tier}"] = Schema(
                f"fal {version} text-to-video{tier}", _hosted(gen, durations, image=False, end_image=False,
                                                              aspect=aspect_t))
            s[f"fal-ai/{version}/image-to-video{tier}"] = Schema(
                f"fal {version} image-to-video{tier}",
                _hosted(gen, durations, image=True, end_image=version == "ltx-2.3", aspect=aspect_i),
                required=("prompt", "image_url"))
        s[f"fal-ai/{version}/retake-video"] = _RETAKE
        s[f"fal-ai/{version}/extend-video"] = _EXTEND
    for tier in ("fast", "pro"):
        s[f"lightricks/ltx-2.5/text-to-video/{tier}"] = _ltx25(tier, image=False)
        s[f"lightricks/ltx-2.5/image-to-video/{tier}"] = _ltx25(tier, image=True)
    for lora in (False, True):
        tail = "/lora" if lora else ""
        s[f"fal-ai/ltx-2-19b/text-to-video{tail}"] = _19b("text-to-video", _19B_COMMON, ("prompt",), lora)
        s[f"fal-ai/ltx-2-19b/image-to-video{tail}"] = _19b("image-to-video", _19B_I2V, ("prompt", "image_url"), lora)
        s[f"fal-ai/ltx-2-19b/extend-video{tail}"] = _19b("extend-video", _19B_EXTEND, ("prompt", "video_url"), lora)
        s[f"fal-ai/ltx-2-19b/video-to-video{tail}"] = _19b("video-to-video", _19B_V2V, ("prompt", "video_url"), lora)
    s["fal-ai/ltx-video-13b-distilled"] = _13B_T2V
    s["fal-ai/ltx-video-13b-distilled/image-to-video"] = _13B_I2V
    s["fal-ai/ltx-video-13b-distilled/multiconditioning"] = _13B_MULTI
    s["fal-ai/ltx-video-13b-distilled/extend"] = _13B_EXTEND
    s["fal-ai/ltx-video"] = Schema("fal LTX-Video 2B", _2B)
    s["fal-ai/ltx-video/image-to-video"] = Schema("fal LTX-Video 2B image-to-video", _with(_2B, image_url=URL),
                                                  required=("prompt", "image_url"))
    return s


FAL = _fal_schemas()

# ====================================================================== Replicate
REP_RES = one_of("1080p", "2k", "4k")
_R_CAMERA = one_of("none", *CAMERA_LORAS, "focus_shift")
# lightricks/ltx-2-fast|pro: the schema page was not found (cloud-apis.md 2.1); these are the documented inputs
_R_LTX2 = {"prompt": STR, "image": URL, "resolution": REP_RES, "fps": int_of(24, 25, 48, 50),
           "generate_audio": BOOL}
_R_LTX23 = _with(_R_LTX2, last_frame_image=URL, aspect_ratio=one_of("16:9", "9:16"), camera_motion=_R_CAMERA,
                 duration=int_of(*FAST_DURATIONS))
_R_LTX23_PRO = _with(_R_LTX23, duration=int_of(6, 8, 10),
                     task=one_of("text_to_video", "image_to_video", "audio_to_video", "retake", "extend"),
                     audio=URL, video=URL, retake_start_time=NUM, retake_duration=NUM)
_R_LTX25 = {"prompt": STR, "image": URL, "last_frame_image": URL, "resolution": one_of("720p", "1080p", "2k", "4k"),
            "duration": int_of(2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 18, 20), "aspect_ratio": one_of("16:9", "9:16"),
            "fps": int_of(24, 25, 48, 50), "generate_audio": BOOL}
_R_LTXV = {"prompt": STR, "negative_prompt": STR, "image": URL, "image_noise_scale": NUM, "cfg": NUM, "steps": INT,
           "length": INT, "target_size": INT, "aspect_ratio": one_of("1:1", "1:2", "2:1", "2:3", "3:2", "3:4", "4:3",
                                                                      "4:5", "5:4", "9:16", "16:9", "9:21", "21:9"),
           "model": one_of("0.9.1", "0.9"), "seed": INT}

REPLICATE: dict[str, Schema] = {
    "lightricks/ltx-2-fast": Schema("Replicate LTX-2 Fast", _with(_R_LTX2, duration=int_of(*FAST_DURATIONS))),
    "lightricks/ltx-2-pro": Schema("Replicate LTX-2 Pro", _with(_R_LTX2, duration=int_of(6, 8, 10))),
    "lightricks/ltx-2.3-fast": Schema("Replicate LTX-2.3 Fast", _R_LTX23),
    "lightricks/ltx-2.3-pro": Schema("Replicate LTX-2.3 Pro", _R_LTX23_PRO),
    "lightricks/ltx-2.5-fast": Schema("Replicate LTX-2.5 Fast", _R_LTX25),
    "lightricks/ltx-video": Schema("Replicate LTX-Video", _R_LTXV),
}


def fal_problems(app: str, body: Any) -> Optional[list[tuple[str, str]]]:
    """Problems with a fal body for `app` ([] = fine); None when fal serves no such app."""
    schema = FAL.get(app.strip("/"))
    return None if schema is None else schema.problems(body)


def replicate_problems(model: str, inp: Any) -> Optional[list[tuple[str, str]]]:
    schema = REPLICATE.get(model)
    return None if schema is None else schema.problems(inp)
