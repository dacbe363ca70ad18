"""Read access to the Veo catalog (providers/veo/catalog_data.py): model info for the GUI, the deployment a model
runs on, the rules between settings, person generation per mode, the extension chain and prices. No network, no
SDK."""
from __future__ import annotations

import math
from typing import Optional

from core.errors import InvalidRequestError
from core.render.contract import ModelInfo
from providers.veo.catalog_data import (DEFAULT_DEPLOYMENT, DEFAULT_MODELS, DEPLOYMENT_LABELS, DEPLOYMENTS,
                                        EXTENSION, MODELS, PERSON_GENERATION, REFERENCE_RULES, WIRE_RESOLUTION)

__all__ = ["DEPLOYMENTS", "DEFAULT_DEPLOYMENT", "EXTENSION", "REFERENCE_RULES", "WIRE_RESOLUTION", "model_ids",
           "entry", "deployment_of", "default_model", "model_info", "models", "durations_for", "person_values",
           "extensions_for", "extension_calls", "price_per_second", "label_of", "chain_models"]


def model_ids(deployment: Optional[str] = None) -> list[str]:
    return [m for m, e in MODELS.items() if deployment is None or e["deployment"] == deployment]


def entry(model_id: str) -> dict:
    if model_id not in MODELS:
        raise InvalidRequestError(f"unknown Veo model {model_id!r}", field="model", allowed=model_ids())
    return MODELS[model_id]


def deployment_of(model_id: str) -> str:
    return entry(model_id)["deployment"]


def label_of(deployment: str) -> str:
    return DEPLOYMENT_LABELS.get(deployment, deployment)


def default_model(deployment: Optional[str] = None) -> str:
    return DEFAULT_MODELS[deployment or DEFAULT_DEPLOYMENT]


def chain_models(deployment: str) -> list[str]:
    """Models that render scenes longer than one clip (base clip + extensions) on a deployment."""
    return [m for m in model_ids(deployment) if MODELS[m]["chain"]]


def durations_for(e: dict, resolution: str, mode: str) -> list[float]:
    """Clip lengths one call renders at this resolution in this mode."""
    durations = [float(d) for d in e["durations"]]
    if resolution in e["eight_seconds_only"]:
        durations = [d for d in durations if d == 8.0]
    if mode == "reference-images":
        durations = [d for d in durations if d in REFERENCE_RULES["durations"]]
    return durations


def person_values(deployment: str, mode: str) -> list[str]:
    """The person-generation values the service takes for a mode (the first one is the default)."""
    return list(PERSON_GENERATION[deployment][mode])


def extensions_for(seconds: float) -> int:
    """How many extensions a chain needs so that base clip + extensions covers `seconds`."""
    extra = float(seconds) - EXTENSION["base_seconds"]
    return 0 if extra <= 1e-6 else int(math.ceil(extra / EXTENSION["seconds"] - 1e-9))


def extension_calls(added_seconds: float) -> int:
    """How many extensions add at least `added_seconds` to a clip (one at least)."""
    return max(1, int(math.ceil(float(added_seconds) / EXTENSION["seconds"] - 1e-9)))


def price_per_second(e: dict, resolution: str, audio: bool = True) -> float:
    table = e["price_per_second"] if audio or "price_per_second_silent" not in e else e["price_per_second_silent"]
    return float(table[resolution])


def model_info(model_id: str) -> ModelInfo:
    e = entry(model_id)
    durations = [float(d) for d in e["durations"]]
    longest = EXTENSION["base_seconds"] + EXTENSION["seconds"] * EXTENSION["max_calls"] if e["chain"] \
        else max(durations)
    return ModelInfo(
        id=model_id, label=e["label"], resolutions=list(e["resolutions"]), aspect_ratios=list(e["aspect_ratios"]),
        fps=list(e["fps"]), durations=durations, min_duration=min(durations), max_duration=float(longest),
        modes=list(e["modes"]), max_reference_images=int(e["max_reference_images"]), supports_audio=True,
        price_per_second=dict(e["price_per_second"]), deployments=[e["deployment"]],
        defaults=dict(e["defaults"]), params=list(e["params"]))


def models(deployment: Optional[str] = None) -> list[ModelInfo]:
    return [model_info(m) for m in model_ids(deployment)]


def wire_resolution(resolution: str) -> str:
    return WIRE_RESOLUTION[resolution]
