"""What the registry says about providers, models and deployments, cached for the widgets (no Qt here besides
the names; the facts all come from providers.registry and the providers' catalogs)."""
from __future__ import annotations

import importlib
import logging
from typing import Optional

from core.config import Settings
from core.errors import ImageAIError
from providers import registry
from providers.base import Capabilities, ModelInfo

log = logging.getLogger(__name__)

DEPLOYMENT_LABELS = {"fal": "Fal API", "replicate": "Replicate API", "local": "Local GPU", "comfyui": "ComfyUI"}
LOCAL_DEPLOYMENTS = ("local", "comfyui")
LTX = "ltx-video"


class ProviderInfo:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._statuses: Optional[list[registry.ProviderStatus]] = None
        self._caps: dict[str, Capabilities] = {}
        self._deployments: Optional[dict[str, Optional[str]]] = None

    def refresh(self, settings: Optional[Settings] = None) -> None:
        if settings is not None:
            self.settings = settings
        self._statuses = None
        self._caps.clear()
        self._deployments = None

    def prefetch(self) -> None:
        """Ask every provider once (on a worker thread: checking an SDK or a GPU can mean importing it, which takes
        seconds); afterwards the widgets read the cached answers without waiting."""
        for status in self.statuses():
            if status.available:
                self.capabilities(status.name)
        if any(s.name == LTX for s in self.statuses()):
            self.deployment_status()  # shown (with reasons) even when no deployment can run here

    def statuses(self) -> list[registry.ProviderStatus]:
        if self._statuses is None:
            self._statuses = registry.statuses(self.settings)
        return self._statuses

    def status(self, name: str) -> Optional[registry.ProviderStatus]:
        return next((s for s in self.statuses() if s.name == name), None)

    def capabilities(self, name: str) -> Optional[Capabilities]:
        if name not in self._caps:
            try:
                self._caps[name] = registry.get(name, self.settings).capabilities()
            except ImageAIError as exc:
                log.info("no capabilities for %s: %s", name, exc)
                return None
        return self._caps[name]

    def models(self, provider: str, deployment: Optional[str] = None) -> list[ModelInfo]:
        """Models of a provider; for LTX-Video those of one deployment, with that deployment's prices."""
        if provider == LTX and deployment:
            catalog = _ltx_catalog()
            if catalog is not None and hasattr(catalog, "models_for"):
                try:
                    return list(catalog.models_for(deployment))
                except ImageAIError as exc:
                    log.info("no LTX models for %s: %s", deployment, exc)
                    return []
        caps = self.capabilities(provider)
        if caps is None:
            return []
        if deployment:
            return [m for m in caps.models if not m.deployments or deployment in m.deployments]
        return list(caps.models)

    def deployment_status(self) -> dict[str, Optional[str]]:
        """deployment id -> reason it cannot be used here, or None when it can."""
        if self._deployments is None:
            reasons: dict[str, Optional[str]] = {d: "LTX-Video is not available in this build"
                                                 for d in DEPLOYMENT_LABELS}
            try:
                provider = registry.get(LTX, self.settings)
                if hasattr(provider, "deployment_status"):
                    reasons.update(provider.deployment_status())
            except ImageAIError as exc:
                reasons = {d: str(exc) for d in DEPLOYMENT_LABELS}
            self._deployments = reasons
        return self._deployments


def _ltx_catalog():
    try:
        return importlib.import_module("providers.ltx.catalog")
    except ImportError:
        return None


def price_text(model: ModelInfo, resolution: str) -> str:
    """'$0.06/s' for the chosen resolution, 'free' for a free model, '' when the catalog has no price."""
    if model.price_per_video is not None:
        return f"${model.price_per_video:.2f}/video"
    per_second = model.cost_per_second(resolution)
    if per_second is None:
        known = [v for v in model.price_per_second.values()]
        if not known:
            return ""
        return f"from ${min(known):g}/s"
    if per_second == 0:
        return "free"
    return f"${per_second:g}/s"
