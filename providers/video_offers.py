"""Every video model this build offers (LTX-Video once per deployment, with that deployment's modes) and each
provider's `prepare`, as the image run asks them (core/images/frame_rules.py): from the registry and the catalogs,
no network, no SDK call."""
from __future__ import annotations

from typing import Optional

from core.config import Settings
from core.errors import ImageAIError
from core.images.frame_rules import VideoModels, VideoOffer
from core.render.contract import VideoProvider
from providers import registry

LTX = "ltx-video"


def video_offers(settings: Optional[Settings] = None) -> list[VideoOffer]:
    out: list[VideoOffer] = []
    for entry in registry.entries():
        if entry.name == LTX:
            from core.video.ids import DEPLOYMENTS
            from providers.ltx import catalog

            for dep in DEPLOYMENTS:
                out += [VideoOffer(f"{m.id} on {dep}", LTX, m.id, dep, tuple(m.modes))
                        for m in catalog.models_for(dep)]
            continue
        try:
            caps = registry.get(entry.name, settings).capabilities()
        except ImageAIError:  # a provider that cannot load here offers nothing to name
            continue
        for m in caps.models:
            for dep in m.deployments or [None]:
                label = f"{m.id} on {dep}" if dep else (m.id if m.id == entry.name else f"{entry.name} {m.id}")
                out.append(VideoOffer(label, entry.name, m.id, dep, tuple(m.modes)))
    return out


def video_models(settings: Optional[Settings] = None) -> VideoModels:
    """The video side an image run asks: one provider instance per name (prepare only: nothing is opened)."""
    providers: dict[str, VideoProvider] = {}

    def provider_for(name: str) -> VideoProvider:
        if name not in providers:
            providers[name] = registry.get(name, settings)
        return providers[name]
    return VideoModels(provider_for=provider_for, find_offers=lambda: video_offers(settings))
