"""Image-provider registry, beside the video one (providers/registry.py): name -> lazy factory. Nothing heavy is
imported until a provider is asked for; one whose SDK, key or GPU is missing is listed as unavailable with the
reason instead of crashing the app."""
from __future__ import annotations

from typing import Optional

from core.config import Settings, load_settings
from core.images.contract import ImageProvider
from providers.entries import Entry, Status, find_entry, status_of
from providers.lazy import load_target


ImageEntry = Entry
ImageStatus = Status


BUILTIN: tuple[Entry, ...] = (
    Entry("google", "Google Gemini", "providers.images.google:GoogleImageProvider", "image"),
    Entry("openai", "OpenAI", "providers.images.openai_images:OpenAIImageProvider", "image"),
    Entry("stability", "Stability AI", "providers.images.stability:StabilityImageProvider", "image"),
    Entry("local-sd", "Local Stable Diffusion", "providers.images.local_sd:LocalSDProvider", "image"),
)
DEFAULT = "google"


def image_entries() -> list[ImageEntry]:
    return list(BUILTIN)


def image_names() -> list[str]:
    return [e.name for e in BUILTIN]


def _entry(name: str) -> ImageEntry:
    return find_entry(BUILTIN, name, "image provider")


def get_image(name: str, settings: Optional[Settings] = None) -> ImageProvider:
    """The image provider called `name`; UnavailableError (with the reason) when it cannot be loaded here."""
    entry = _entry(name)
    return load_target(entry.target, entry.display_name)(settings or load_settings())


def image_status(name: str, settings: Optional[Settings] = None) -> ImageStatus:
    return status_of(name, _entry, lambda n: get_image(n, settings).unavailable_reason())


def image_statuses(settings: Optional[Settings] = None) -> list[ImageStatus]:
    settings = settings or load_settings()
    return [image_status(e.name, settings) for e in BUILTIN]
