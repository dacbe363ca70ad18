"""The Veo 3.1 catalog as data: the models each deployment serves, their limits, the rules between settings, person
generation per mode, audio, prices and defaults. Docs/veo.md explains each entry and its source.

Sources (December 2026): ../shared/research/cloud-apis.md §4 (google-genai 2.34 wire mapping, checked against the
installed wheel), the Gemini API and Vertex AI Veo pages as quoted there, and third-party API pages where Google
publishes nothing (marked so in Docs/veo.md). Resolution ids are the app's ("2160p" is what Google calls "4k").

Keys of a model entry:
  deployment        "gemini" (the Gemini API, an AI Studio key) or "vertex" (Vertex AI)
  label, tier       shown in the GUI; tier is "standard", "fast" or "lite"
  resolutions       app ids; `eight_seconds_only` lists those that render 8 s clips only
  aspect_ratios, fps, durations
  modes             generation modes (core/render/contract.py MODES) plus "audio" and "reference-images";
                    "extend" is a user's own clip extended (Vertex only: the Gemini API extends Veo's own results)
  chain             scenes longer than one clip render as a base clip plus extensions (see EXTENSION)
  max_reference_images, reference_rules
  audio             "always" (no switch: the Gemini API renders sound with every Veo 3.x clip) or "switch"
  params            the optional universal settings this deployment sends: seed, negative_prompt, generate_audio
  price_per_second  {resolution: USD per second of output} with audio; `price_per_second_silent` without (Vertex)
  price_published   {resolution: bool}: False where the figure is our estimate
  defaults          the model's own defaults (a render fills every unset value from here)
"""
from __future__ import annotations

DEPLOYMENTS = ("gemini", "vertex")
DEFAULT_DEPLOYMENT = "gemini"
DEFAULT_MODELS = {"gemini": "veo-3.1-generate-preview", "vertex": "veo-3.1-generate-001"}
DEPLOYMENT_LABELS = {"gemini": "the Gemini API", "vertex": "Vertex AI"}

#: a long scene: one base clip of `base_seconds`, then up to `max_calls` extensions adding `seconds` each; the
#: service extends only clips of at most 720p and returns the whole extended video every time
EXTENSION = {"seconds": 7.0, "max_calls": 20, "base_seconds": 8.0, "resolutions": ["720p"],
             "max_input_seconds": 141.0}

#: person generation per deployment and mode: the values each takes, the first one is the default
PERSON_GENERATION = {
    "gemini": {
        "text-to-video": ["allow_all"],
        "extend": ["allow_all"],
        "image-to-video": ["allow_adult"],
        "first-last-frame": ["allow_adult"],
        "reference-images": ["allow_adult"],
    },
    # Vertex: allow_adult unless chosen; allow_all needs a project Google has allowlisted
    "vertex": {mode: ["allow_adult", "dont_allow", "allow_all"]
               for mode in ("text-to-video", "extend", "image-to-video", "first-last-frame", "reference-images")},
}
PERSON_VALUES = ("allow_all", "allow_adult", "dont_allow")

#: references: asset images of a subject (the service's STYLE type is not offered by Veo 3.1)
REFERENCE_RULES = {"durations": [8], "aspect_ratios": ["16:9"], "with_frames": False}

_RES = ["720p", "1080p", "2160p"]
_EIGHT_ONLY = ["1080p", "2160p"]
_DEFAULTS = {"resolution": "720p", "aspect_ratio": "16:9", "fps": 24, "duration": 8}
_FULL_MODES = ["text-to-video", "image-to-video", "first-last-frame", "reference-images", "audio"]
_GEMINI_PARAMS = ["negative_prompt"]
_VERTEX_PARAMS = ["negative_prompt", "seed", "generate_audio"]


def _model(deployment: str, label: str, tier: str, modes: list[str], prices: dict, published: dict, *,
           resolutions: list[str] = _RES, chain: bool = True, references: int = 0, silent: dict | None = None) -> dict:
    entry = {
        "deployment": deployment, "label": label, "tier": tier,
        "resolutions": list(resolutions), "eight_seconds_only": [r for r in _EIGHT_ONLY if r in resolutions],
        "aspect_ratios": ["16:9", "9:16"], "fps": [24], "durations": [4, 6, 8],
        "modes": list(modes), "chain": chain, "max_reference_images": references,
        "audio": "always" if deployment == "gemini" else "switch",
        "params": list(_GEMINI_PARAMS if deployment == "gemini" else _VERTEX_PARAMS),
        "price_per_second": dict(prices), "price_published": dict(published),
        "defaults": dict(_DEFAULTS, include_audio=True),
    }
    if silent:
        entry["price_per_second_silent"] = dict(silent)
    return entry


# Gemini API: $0.40/s (standard) and $0.15/s (fast) at 720p/1080p are Google's published figures; 4K and every
# Lite figure are third-party estimates until Google publishes them
MODELS: dict[str, dict] = {
    "veo-3.1-generate-preview": _model(
        "gemini", "Veo 3.1", "standard", _FULL_MODES, {"720p": 0.40, "1080p": 0.40, "2160p": 0.60},
        {"720p": True, "1080p": True, "2160p": False}, references=3),
    "veo-3.1-fast-generate-preview": _model(
        "gemini", "Veo 3.1 Fast", "fast", ["text-to-video", "image-to-video", "first-last-frame", "audio"],
        {"720p": 0.15, "1080p": 0.15, "2160p": 0.30}, {"720p": True, "1080p": True, "2160p": False}),
    # sources disagree on Lite's first+last frame and extension: offered only once Google documents them
    "veo-3.1-lite-generate-preview": _model(
        "gemini", "Veo 3.1 Lite", "lite", ["text-to-video", "image-to-video", "audio"],
        {"720p": 0.05, "1080p": 0.08}, {"720p": False, "1080p": False}, resolutions=["720p", "1080p"], chain=False),
    # Vertex AI GA models: priced with and without audio (published for 720p/1080p; 4K estimated)
    "veo-3.1-generate-001": _model(
        "vertex", "Veo 3.1 (Vertex)", "standard", _FULL_MODES + ["extend"],
        {"720p": 0.40, "1080p": 0.40, "2160p": 0.60}, {"720p": True, "1080p": True, "2160p": False}, references=3,
        silent={"720p": 0.20, "1080p": 0.20, "2160p": 0.40}),
    "veo-3.1-fast-generate-001": _model(
        "vertex", "Veo 3.1 Fast (Vertex)", "fast",
        ["text-to-video", "image-to-video", "first-last-frame", "audio", "extend"],
        {"720p": 0.15, "1080p": 0.15, "2160p": 0.30}, {"720p": True, "1080p": True, "2160p": False},
        silent={"720p": 0.10, "1080p": 0.10, "2160p": 0.20}),
}

#: the app's resolution id -> the value on the wire
WIRE_RESOLUTION = {"720p": "720p", "1080p": "1080p", "2160p": "4k"}
