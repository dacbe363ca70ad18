"""Camera motion -> what an LTX endpoint understands.

Lightricks ships camera-control LoRAs for LTX-2 (dolly in/out/left/right, jib up/down, static); fal's LTX-2 19B
endpoints take them as `camera_lora`, and Replicate's LTX-2.3 models as `camera_motion` with the same names.
Motions without a LoRA (zoom, orbit) and every endpoint without a camera field fall back to prompt wording.
"""
from __future__ import annotations

from typing import Optional

# our motion id -> Lightricks camera LoRA id (None: no LoRA exists, use prompt wording)
CAMERA_LORAS: dict[str, Optional[str]] = {
    "none": None,
    "dolly_forward": "dolly_in",
    "dolly_backward": "dolly_out",
    # a lateral dolly (truck) is the closest LoRA to a pan; the prompt also names the pan
    "pan_left": "dolly_left",
    "pan_right": "dolly_right",
    "crane_up": "jib_up",
    "crane_down": "jib_down",
    "zoom_in": None,
    "zoom_out": None,
    "orbit": None,
}

PHRASES: dict[str, str] = {
    "pan_left": "the camera pans left",
    "pan_right": "the camera pans right",
    "zoom_in": "the camera zooms in",
    "zoom_out": "the camera zooms out",
    "orbit": "the camera orbits around the subject",
    "dolly_forward": "the camera dollies forward",
    "dolly_backward": "the camera dollies backward",
    "crane_up": "the camera cranes up",
    "crane_down": "the camera cranes down",
}


def lora_id(motion: str) -> Optional[str]:
    return CAMERA_LORAS.get(motion)


def speed_word(speed: float) -> str:
    if speed < 0.8:
        return "slowly"
    if speed > 1.3:
        return "quickly"
    return "steadily"


def phrase(motion: str, speed: float) -> str:
    """Prompt wording for a motion at a speed, e.g. "The camera slowly zooms in." ("" for none)."""
    base = PHRASES.get(motion)
    if not base:
        return ""
    subject, verb_rest = base.split(" camera ", 1)
    return f"{subject.capitalize()} camera {speed_word(speed)} {verb_rest}."


def lora_scale(speed: float) -> float:
    """Camera-LoRA strength for a speed: 1.0 at normal speed, within the 0.5-2.0 the setting allows."""
    return round(max(0.5, min(2.0, speed)), 2)


def apply(prompt: str, motion: str, speed: float, kind: str) -> tuple[str, Optional[str], Optional[float]]:
    """(prompt, camera LoRA id or None, LoRA scale or None) for an endpoint whose camera support is `kind`
    ("lora", "native" or "prompt")."""
    if motion == "none":
        return prompt, None, None
    lid = lora_id(motion)
    if kind in ("lora", "native") and lid:
        # a pan is a rotation, the LoRA a lateral move: name the pan in the prompt too
        if motion.startswith("pan_"):
            prompt = f"{prompt.rstrip()} {phrase(motion, speed)}"
        return prompt, lid, lora_scale(speed)
    return f"{prompt.rstrip()} {phrase(motion, speed)}", None, None
