"""What a service received, read back into setting names: one view per endpoint family (fal, Replicate, the local
worker's render spec, Animatic's clip), for tests/test_settings_reach_service.py.

A view maps a setting ("seed", "camera_motion", ...) to the value the request carried for it, in the app's own
vocabulary: Replicate's "2k" is read as 1440p, fal 19B's video_size as a resolution and an aspect ratio, a frame
count as seconds, the camera sentence in the prompt as a motion and a speed word, "Audio: ..." as the audio prompt,
an uploaded LoRA as its bytes. `compare` then checks a recorded value against it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional
from urllib.parse import parse_qs

from core.video.render_settings import ASPECT_RATIOS
from providers.ltx import camera, catalog

MOTION_OF_LORA = {lora: motion for motion, lora in camera.CAMERA_LORAS.items() if lora}
MOTION_OF_PHRASE = {phrase.split(" camera ", 1)[1]: motion for motion, phrase in camera.PHRASES.items()}
REPLICATE_RESOLUTION = {"720p": "720p", "1080p": "1080p", "2k": "1440p", "4k": "2160p"}


@dataclass(frozen=True)
class Approx:
    """A length read from a frame count: equal within the frame count's rounding."""
    value: float
    tol: float


@dataclass(frozen=True)
class Speed:
    """A camera speed as the wire carries it: the adverb of the prompt's camera sentence, or a LoRA strength."""
    word: Optional[str] = None
    scale: Optional[float] = None


@dataclass(frozen=True)
class Uploaded:
    """A file the service received (its bytes), for a setting that names a local file."""
    data: Optional[bytes]


def compare(key: str, sent: Any, wire: Any) -> bool:
    if isinstance(wire, Approx):
        return abs(float(sent) - wire.value) <= wire.tol
    if isinstance(wire, Speed):
        if wire.scale is not None:
            return camera.lora_scale(float(sent)) == wire.scale
        return camera.speed_word(float(sent)) == wire.word
    if isinstance(wire, Uploaded):
        return wire.data is not None and Path(sent).read_bytes() == wire.data
    if key == "model_path":
        return Path(sent).expanduser().resolve() == Path(wire).resolve()
    if isinstance(sent, bool) or isinstance(wire, bool):
        return sent is wire
    if isinstance(sent, (int, float)) and isinstance(wire, (int, float, str)):
        try:
            return float(sent) == float(wire)
        except ValueError:
            return False
    return sent == wire


def implicit(entry: dict, mode: str, key: str, value: Any) -> bool:
    """True when the endpoint renders exactly `value` without a field for it (a single allowed or pinned value, a
    silent model's audio off, no camera motion, the one extend direction)."""
    pinned = entry.get("pinned", {})
    if key in pinned:
        return pinned[key] == value
    allowed = {"resolution": entry.get("mode_resolutions", {}).get(mode, entry.get("resolutions")),
               "aspect_ratio": entry.get("aspect_ratios"), "fps": entry.get("fps"),
               "duration": entry.get("durations")}.get(key)
    if allowed is not None:
        return len(allowed) == 1 and compare(key, value, allowed[0])
    if key == "include_audio":
        modes = catalog.modes_of(entry) if "schema" in entry else entry.get("modes", [])
        return value is False and "audio" not in modes
    if key == "camera_motion":
        return value == "none"
    if key == "extend_direction":
        return entry.get("extend_directions") == [value]
    return False


# ---------------------------------------------------------------------------------------------- pieces
def prompt_view(prompt: str) -> dict:
    """The camera sentence and the audio prompt that the plan folds into the prompt."""
    out: dict = {}
    text, sep, audio = prompt.partition(" Audio: ")
    if sep:
        out["audio_prompt"] = audio
    m = re.search(r"The camera (slowly|steadily|quickly) (.+?)\.", text)
    if m and m.group(2) in MOTION_OF_PHRASE:
        out["camera_motion"] = MOTION_OF_PHRASE[m.group(2)]
        out["camera_speed"] = Speed(word=m.group(1))
    return out


def size_view(width: int, height: int) -> dict:
    """Resolution id (the short side) and aspect ratio of a frame size."""
    ratio = width / height
    aspect = next((a for a in ASPECT_RATIOS if abs(int(a.split(":")[0]) / int(a.split(":")[1]) - ratio) < 0.02),
                  f"{width}:{height}")
    return {"resolution": f"{min(width, height)}p", "aspect_ratio": aspect}


def _loras(out: dict, loras: Any, fake) -> None:
    if loras:
        first = loras[0]
        path, scale = (first["path"], first.get("scale", 1.0)) if isinstance(first, dict) else first
        out["lora_path"] = Uploaded(fake.resolve(path)) if fake is not None else path
        out["lora_scale"] = scale


def _copy(out: dict, body: dict, pairs: tuple[tuple[str, str], ...]) -> None:
    for ours, theirs in pairs:
        if theirs in body:
            out[ours] = body[theirs]


# ---------------------------------------------------------------------------------------------- fal
def fal_view(ltx, body: dict, query: str, fake) -> dict:
    schema, mode = ltx.schema, ltx.mode
    out = prompt_view(body.get("prompt") or "")
    hook = parse_qs(query or "").get("fal_webhook")
    if hook:
        out["webhook_url"] = hook[0]
    _copy(out, body, (("seed", "seed"), ("negative_prompt", "negative_prompt")))
    if schema in ("ltx2", "ltx23", "ltx25"):
        if mode == "extend":
            _copy(out, body, (("duration", "duration"),))
            out["extend_direction"] = {"end": "forward", "start": "backward"}[body.get("mode", "end")]
        elif mode == "video-to-video":
            _copy(out, body, (("duration", "duration"),))
            out["include_audio"] = body.get("retake_mode", "replace_audio_and_video") == "replace_audio_and_video"
        else:
            _copy(out, body, (("resolution", "resolution"), ("fps", "fps"), ("duration", "duration"),
                              ("include_audio", "generate_audio"), ("aspect_ratio", "aspect_ratio")))
            if body.get("camera_motion") in MOTION_OF_LORA:  # LTX-2.5's native field
                out["camera_motion"] = MOTION_OF_LORA[body["camera_motion"]]
    elif schema == "ltx2_19b":
        size = body["video_size"]
        out.update(size_view(size["width"], size["height"]))
        fps = float(body["fps"])
        out["fps"] = body["fps"]
        out["duration"] = Approx((body["num_frames"] - 1) / fps, 1 / fps + 1e-6)
        _copy(out, body, (("include_audio", "generate_audio"), ("guidance_scale", "guidance_scale"),
                          ("num_inference_steps", "num_inference_steps"), ("extend_direction", "extend_direction")))
        if body.get("camera_lora") in MOTION_OF_LORA:
            out["camera_motion"] = MOTION_OF_LORA[body["camera_lora"]]
            out["camera_speed"] = Speed(scale=body.get("camera_lora_scale", 1.0))
        _loras(out, body.get("loras"), fake)
    elif schema == "ltxv13b":
        fps = float(body["frame_rate"])
        seconds = (body["num_frames"] - 1) / fps
        if mode == "extend":
            seconds -= ltx.source_seconds or 0.0
            out["extend_direction"] = "forward" if body["video"].get("start_frame_num", 0) == 0 else "backward"
        out["duration"] = Approx(seconds, 8 / fps + 1e-6)  # frame counts snap to 8k+1
        out["fps"] = body["frame_rate"]
        _copy(out, body, (("resolution", "resolution"), ("aspect_ratio", "aspect_ratio"),
                          ("num_inference_steps", "first_pass_num_inference_steps")))
        _loras(out, body.get("loras"), fake)
    elif schema == "ltxv2b":
        _copy(out, body, (("guidance_scale", "guidance_scale"), ("num_inference_steps", "num_inference_steps")))
    return out


# ---------------------------------------------------------------------------------------------- Replicate
def replicate_view(ltx, body: dict, fake) -> dict:
    inp = body["input"]
    out = prompt_view(inp.get("prompt") or "")
    if body.get("webhook"):
        out["webhook_url"] = body["webhook"]
    if ltx.schema == "r_ltxv":
        _copy(out, inp, (("seed", "seed"), ("negative_prompt", "negative_prompt"), ("guidance_scale", "cfg"),
                         ("num_inference_steps", "steps"), ("aspect_ratio", "aspect_ratio")))
        out["duration"] = Approx((inp["length"] - 1) / 24, 8 / 24 + 1e-6)
        return out
    if "resolution" in inp:
        out["resolution"] = REPLICATE_RESOLUTION.get(inp["resolution"], inp["resolution"])
    _copy(out, inp, (("fps", "fps"), ("duration", "duration"), ("include_audio", "generate_audio"),
                     ("aspect_ratio", "aspect_ratio")))
    if inp.get("task") == "retake":
        out["duration"] = inp["retake_duration"]
    if inp.get("camera_motion") in MOTION_OF_LORA:
        out["camera_motion"] = MOTION_OF_LORA[inp["camera_motion"]]
    return out


# ---------------------------------------------------------------------------------------------- local
def local_view(ltx, spec: dict, worker_key: tuple[str, str]) -> dict:
    """The render spec the backend sent its worker, and the worker it went to ((model folder, device))."""
    out = prompt_view(spec.get("prompt") or "")
    fps = float(spec["fps"])
    out.update(width=spec["width"], height=spec["height"], frames=spec["frames"], fps=spec["fps"],
               duration=Approx((spec["frames"] - 1) / fps, 1 / fps + 1e-6), include_audio=spec["include_audio"],
               num_inference_steps=spec["steps"], guidance_scale=spec["guidance"])
    if spec.get("seed") is not None:
        out["seed"] = spec["seed"]
    if spec.get("negative_prompt"):
        out["negative_prompt"] = spec["negative_prompt"]
    if ltx.mode == "extend":
        out["extend_direction"] = spec["extend_direction"]
    _loras(out, spec.get("loras"), None)
    out["model_path"], out["device"] = worker_key
    return out


# ---------------------------------------------------------------------------------------------- Animatic
def animatic_view(info) -> dict:
    """Animatic sends nothing anywhere: its wire is the clip it draws."""
    return {**size_view(info.width, info.height), "fps": info.fps, "duration": Approx(info.duration, 0.05)}
