"""Provider registry: name -> lazy factory. Nothing heavy is imported until a provider is asked for, and a provider
whose SDK, key, hardware or server is missing is listed as unavailable with the reason instead of crashing the app.

Third-party providers register through the entry-point group `imageai_video.providers` or the environment variable
IMAGEAI_PROVIDER_PLUGINS ("name=package.module:factory,..."); a factory takes the app Settings.
"""
from __future__ import annotations

import functools
import logging
import os
from typing import Callable, Optional

from core.config import Settings, load_settings
from providers.base import VideoProvider
from providers.entries import Entry, Status, find_entry, status_of
from providers.lazy import load_target

log = logging.getLogger(__name__)


ProviderEntry = Entry
ProviderStatus = Status


BUILTIN: tuple[ProviderEntry, ...] = (
    ProviderEntry("ltx-video", "LTX-Video", "providers.ltx_video:LTXVideoProvider"),
    ProviderEntry("veo", "Veo 3.1", "providers.veo:VeoProvider"),
    ProviderEntry("animatic", "Animatic", "providers.animatic:AnimaticProvider"),
)


def _plugin_entries() -> list[ProviderEntry]:
    return list(_plugins_for(os.environ.get("IMAGEAI_PROVIDER_PLUGINS", "")))


@functools.lru_cache(maxsize=8)
def _plugins_for(spec: str) -> tuple[ProviderEntry, ...]:
    """Plugins named by the variable plus installed entry points; scanning the installed packages is slow, so it is
    done once per value of the variable."""
    entries = []
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, _, target = item.partition("=")
        entries.append(ProviderEntry(name.strip(), name.strip(), target.strip()))
    try:
        from importlib.metadata import entry_points
        for ep in entry_points(group="imageai_video.providers"):
            entries.append(ProviderEntry(ep.name, ep.name, ep.value))
    except Exception as exc:  # a broken third-party distribution must not hide the built-in providers
        log.warning("provider plugins could not be listed: %s", exc)
    return tuple(entries)


def entries() -> list[ProviderEntry]:
    by_name = {e.name: e for e in BUILTIN}
    for e in _plugin_entries():
        by_name[e.name] = e
    return list(by_name.values())


def names() -> list[str]:
    return [e.name for e in entries()]


def _entry(name: str) -> ProviderEntry:
    return find_entry(entries(), name, "provider")


def _factory(entry: ProviderEntry) -> Callable[[Settings], VideoProvider]:
    return load_target(entry.target, entry.display_name)


def get(name: str, settings: Optional[Settings] = None) -> VideoProvider:
    """The provider called `name`; UnavailableError (with the reason) when it cannot run here."""
    entry = _entry(name)
    provider = _factory(entry)(settings or load_settings())
    if not getattr(provider, "name", ""):
        provider.name = name
    return provider


def status(name: str, settings: Optional[Settings] = None) -> ProviderStatus:
    def reason_of(name: str) -> Optional[str]:
        provider = get(name, settings)
        return provider.unavailable_reason() if hasattr(provider, "unavailable_reason") else None

    return status_of(name, _entry, reason_of)


def statuses(settings: Optional[Settings] = None) -> list[ProviderStatus]:
    settings = settings or load_settings()
    return [status(e.name, settings) for e in entries()]
