"""Which optional render controls the chosen model takes, and, for one it ignores, why and where to find a model
that takes it. Qt-free: the facts are the catalog's (each ModelInfo's `params` and `modes`) and the plan's ignored
settings; the widgets only show the answer (a disabled control with this text as its tooltip).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from core.render.contract import ModelInfo

#: control -> (what the model needs: ("param", name) in ModelInfo.params or ("mode", name) in ModelInfo.modes,
#: the words for it)
CONTROLS: dict[str, tuple[str, str, str]] = {
    "seed": ("param", "seed", "a seed"),
    "negative_prompt": ("param", "negative_prompt", "a negative prompt"),
    "include_audio": ("param", "generate_audio", "an audio on/off switch"),
    "audio_prompt": ("mode", "audio", "an audio prompt"),
    "camera_speed": ("param", "camera_speed", "a camera speed"),
    "guidance": ("param", "guidance", "a guidance scale"),
    "steps": ("param", "steps", "an inference-steps setting"),
    "webhook": ("param", "webhook", "a webhook"),
    "lora": ("mode", "lora", "a LoRA"),
}
#: a plan's ignored field -> the control that sets it
IGNORED_FIELDS = {"seed": "seed", "negative_prompt": "negative_prompt", "include_audio": "include_audio",
                  "audio_prompt": "audio_prompt", "camera_speed": "camera_speed", "guidance_scale": "guidance",
                  "num_inference_steps": "steps", "webhook_url": "webhook", "lora_path": "lora"}
MAX_NAMED = 4  # alternatives named in one tooltip


@dataclass(frozen=True)
class Offer:
    """One model on one provider (and deployment) the user could choose."""

    provider: str          # registry name
    provider_label: str    # "LTX-Video"
    deployment: Optional[str]
    deployment_label: str  # "Fal API", or "" for a provider without deployments
    model: ModelInfo

    @property
    def label(self) -> str:
        where = f" on {self.deployment_label}" if self.deployment_label else ""
        return f"{self.model.label}{where}"


def takes(model: ModelInfo, control: str) -> bool:
    kind, name, _ = CONTROLS[control]
    if control == "include_audio":  # a switch needs audio at all and a field to turn it off
        return "audio" in model.modes and name in model.params
    return name in (model.params if kind == "param" else model.modes)


def reason_not_taken(chosen: Offer, control: str, offers: Iterable[Offer]) -> Optional[str]:
    """None when the chosen model takes the control; else why not, naming models that take it."""
    if takes(chosen.model, control):
        return None
    _, _, words = CONTROLS[control]
    if control in ("include_audio", "audio_prompt") and "audio" not in chosen.model.modes:
        why = f"{chosen.label} makes no audio"
        control = "audio_prompt"  # look for models that make audio
    elif control == "include_audio":
        why = f"{chosen.label} always renders audio (the export can mute it)"
    else:
        why = f"{chosen.label} takes no {words.split(' ', 1)[1]}"
    return f"{why}. {alternatives(chosen, control, offers)}"


def alternatives(chosen: Offer, control: str, offers: Iterable[Offer]) -> str:
    """'Offered by: LTX-2 19B, LTX-Video 13B on Fal API and 3 more; Picky: Picky.': the chosen provider's other
    models first (same deployment, then the same model elsewhere), then each other provider's."""
    found = [o for o in offers if takes(o.model, control)]
    if not found:
        return "No model here offers it."

    def rank(o: Offer) -> int:
        if o.deployment == chosen.deployment:
            return 0
        return 1 if o.model.id == chosen.model.id else 2

    own = sorted((o for o in found if o.provider == chosen.provider), key=rank)
    parts = [_names(own, MAX_NAMED)] if own else []
    others: dict[str, list[Offer]] = {}
    for o in found:
        if o.provider != chosen.provider:
            others.setdefault(o.provider, []).append(o)
    for group in others.values():
        parts.append(f"{group[0].provider_label}: {_names(group, 2)}")
    return "Offered by: " + "; ".join(parts) + "."


def _names(offers: list[Offer], limit: int) -> str:
    shown = [o.label for o in offers[:limit]]
    more = len(offers) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def control_reasons(chosen: Optional[Offer], offers: list[Offer],
                    ignored: Optional[dict[str, str]] = None) -> dict[str, Optional[str]]:
    """control -> None (enabled) or the tooltip of the disabled control. `ignored` holds the plan's own reasons
    ({ignored field: reason}) for settings it did not send; they disable their control too."""
    out: dict[str, Optional[str]] = {c: None for c in CONTROLS}
    if chosen is not None:
        for control in CONTROLS:
            out[control] = reason_not_taken(chosen, control, offers)
    for field, why in (ignored or {}).items():
        control = IGNORED_FIELDS.get(field)
        if control is not None and out.get(control) is None:
            out[control] = f"Ignored by the last estimate: {why}"
    return out
