"""Read access to the LTX catalog (providers/ltx/catalog_data.py): model info for the GUI, the endpoint a mode uses,
and prices. No network, no SDK."""
from __future__ import annotations

import math
from typing import Optional

from core.errors import InvalidRequestError
from core.video.render_settings import frame_size
from providers.base import ModelInfo
from providers.ltx.catalog_data import DEFAULT_DEPLOYMENT, DEFAULT_MODEL, DEPLOYMENT_ORDER, MODELS

GENERATION_MODES = ("text-to-video", "image-to-video", "first-last-frame", "multi-keyframe", "extend",
                    "video-to-video")
RES_ORDER = ("480p", "720p", "1080p", "1440p", "2160p")

__all__ = ["GENERATION_MODES", "DEFAULT_MODEL", "DEFAULT_DEPLOYMENT", "model_ids", "deployments_of", "entry",
           "modes_of", "default_model", "model_info", "models_for", "endpoint_for", "price", "frames_for", "endpoint_families"]


def model_ids() -> list[str]:
    return list(MODELS)


def default_model(deployment: str) -> str:
    """The model a render uses on a deployment when none is chosen."""
    if deployment in MODELS[DEFAULT_MODEL]["deployments"]:
        return DEFAULT_MODEL
    return next((m for m in MODELS if deployment in MODELS[m]["deployments"]), DEFAULT_MODEL)


def deployments_of(model_id: str) -> list[str]:
    return [d for d in DEPLOYMENT_ORDER if d in MODELS[model_id]["deployments"]]


def entry(model_id: str, deployment: str) -> dict:
    """The catalog entry of one model on one deployment; InvalidRequestError naming what exists otherwise."""
    if model_id not in MODELS:
        raise InvalidRequestError(f"unknown LTX model {model_id!r}", field="model", allowed=model_ids())
    deps = MODELS[model_id]["deployments"]
    if deployment not in deps:
        raise InvalidRequestError(f"{model_id} is not offered on {deployment!r}", field="deployment",
                                  allowed=deployments_of(model_id))
    return deps[deployment]


def modes_of(e: dict) -> list[str]:
    """Every mode an entry offers: its generation endpoints plus the feature modes."""
    modes = [m for m in GENERATION_MODES if m in e.get("endpoints", {})]
    for m in e.get("modes", []):
        if m not in modes:
            modes.append(m)
    return modes


def _price_table(e: dict, fps: Optional[int] = None) -> dict[str, float]:
    if "price_per_second" in e:
        return dict(e["price_per_second"])
    if "price_per_megapixel" in e:
        # per-megapixel billing shown per second at 16:9 and the entry's default fps (25 where offered)
        rate = fps or (25 if 25 in e["fps"] else e["fps"][0])
        table = {}
        for res in e["resolutions"]:
            w, h = frame_size(res, "16:9")
            table[res] = round(e["price_per_megapixel"] * w * h * rate / 1e6, 4)
        return table
    return {}


def model_info(model_id: str, deployment: str) -> ModelInfo:
    e = entry(model_id, deployment)
    durations = [float(d) for d in e.get("durations", [])]
    return ModelInfo(
        id=model_id,
        label=MODELS[model_id]["label"],
        resolutions=list(e["resolutions"]),
        aspect_ratios=list(e["aspect_ratios"]),
        fps=list(e["fps"]),
        durations=durations,
        min_duration=float(min(durations) if durations else e.get("min_duration", 1)),
        max_duration=float(max(durations) if durations else e.get("max_duration", 10)),
        modes=modes_of(e),
        max_reference_images=int(e.get("max_reference_images", 0)),
        supports_audio="audio" in modes_of(e),
        price_per_second=_price_table(e),
        price_per_video=e.get("price_per_video"),
        deployments=deployments_of(model_id),
        defaults=dict(e.get("defaults", {})),
        params=list(e.get("params", [])),
    )


def models_for(deployment: str) -> list[ModelInfo]:
    return [model_info(m, deployment) for m in MODELS if deployment in MODELS[m]["deployments"]]


def endpoint_for(e: dict, mode: str, *, lora: bool = False, references: bool = False) -> str:
    """The endpoint (fal app id or Replicate model) a generation mode uses on this entry."""
    if lora and mode in e.get("lora_endpoints", {}):
        return e["lora_endpoints"][mode]
    if references and e.get("reference_endpoint") and mode in ("text-to-video", "image-to-video"):
        return e["reference_endpoint"]
    try:
        return e["endpoints"][mode]
    except KeyError:
        raise InvalidRequestError(f"mode {mode!r} is not offered here", field="mode", allowed=modes_of(e)) from None


def endpoint_families(deployment: str) -> list[str]:
    """Every "owner/alias" queue family of a deployment (to cancel a job whose endpoint is not known)."""
    seen: list[str] = []
    for model in MODELS.values():
        e = model["deployments"].get(deployment)
        if not e:
            continue
        for ep in list(e.get("endpoints", {}).values()) + list(e.get("lora_endpoints", {}).values()):
            fam = "/".join(ep.split("/")[:2])
            if fam not in seen:
                seen.append(fam)
    return seen


def frames_for(duration: float, fps: int, *, snap8: bool = False, max_frames: Optional[int] = None) -> int:
    """Frame count for a duration: duration x fps + 1 (the first frame), snapped to 8k+1 where the model needs it."""
    frames = int(round(duration * fps)) + 1
    if snap8:
        frames = int(math.ceil((frames - 1) / 8)) * 8 + 1
    if max_frames:
        frames = min(frames, max_frames)
    return max(frames, 9 if snap8 else 1)


def price(e: dict, *, resolution: str, aspect_ratio: str, fps: int, seconds: float,
          mode: str = "text-to-video") -> float:
    """USD for one render billed for `seconds` of output."""
    if mode in e.get("mode_prices", {}):
        table = e["mode_prices"][mode]
        per = table.get(resolution, table.get("*", 0.0))
        return round(per * seconds, 4)
    if e.get("price_per_video") is not None:
        return round(e["price_per_video"], 4)
    if "price_per_megapixel" in e:
        w, h = frame_size(resolution, aspect_ratio)
        frames = frames_for(seconds, fps)
        return round(math.ceil(w * h * frames / 1e6) * e["price_per_megapixel"], 4)
    table = e.get("price_per_second", {})
    per = table.get(resolution, table.get("*"))
    if per is None:
        raise InvalidRequestError(f"no price for {resolution}", field="resolution", allowed=list(table))
    return round(per * seconds, 4)
