"""Image-provider registry, beside the video one (providers/registry.py): name -> lazy factory. Nothing heavy is
imported until a provider is asked for; one whose SDK, key or GPU is missing is listed as unavailable with the
reason instead of crashing the app."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from core.config import Settings, load_settings
from core.errors import ImageAIError, InvalidRequestError
from core.images.contract import ImageProvider
from providers.lazy import load_target


@dataclass(frozen=True)
class ImageEntry:
    name: str
    display_name: str
    target: str  # "module:callable" returning an ImageProvider given Settings


@dataclass(frozen=True)
class ImageStatus:
    name: str
    display_name: str
    available: bool
    reason: str = ""


BUILTIN: tuple[ImageEntry, ...] = (
    ImageEntry("google", "Google Gemini", "providers.images.google:GoogleImageProvider"),
    ImageEntry("openai", "OpenAI", "providers.images.openai_images:OpenAIImageProvider"),
    ImageEntry("stability", "Stability AI", "providers.images.stability:StabilityImageProvider"),
    ImageEntry("local-sd", "Local Stable Diffusion", "providers.images.local_sd:LocalSDProvider"),
)
DEFAULT = "google"


def image_entries() -> list[ImageEntry]:
    return list(BUILTIN)


def image_names() -> list[str]:
    return [e.name for e in BUILTIN]


def _entry(name: str) -> ImageEntry:
    for e in BUILTIN:
        if e.name == name:
            return e
    raise InvalidRequestError(f"unknown image provider {name!r}", field="provider", allowed=image_names())


def get_image(name: str, settings: Optional[Settings] = None) -> ImageProvider:
    """The image provider called `name`; UnavailableError (with the reason) when it cannot be loaded here."""
    entry = _entry(name)
    return load_target(entry.target, entry.display_name)(settings or load_settings())


def image_status(name: str, settings: Optional[Settings] = None) -> ImageStatus:
    try:
        entry = _entry(name)
    except ImageAIError as exc:
        return ImageStatus(name, name, False, str(exc))
    try:
        reason = get_image(name, settings).unavailable_reason()
    except ImageAIError as exc:
        return ImageStatus(name, entry.display_name, False, str(exc))
    return ImageStatus(name, entry.display_name, not reason, reason or "")


def image_statuses(settings: Optional[Settings] = None) -> list[ImageStatus]:
    settings = settings or load_settings()
    return [image_status(e.name, settings) for e in BUILTIN]
