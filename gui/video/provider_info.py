"""What the registry says about providers, models and deployments, cached for the widgets (no Qt here besides
the names; the facts all come from providers.registry and the providers' catalogs)."""
from __future__ import annotations

import importlib
import logging
import socket
import subprocess
import sys
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

from core.child_process import child_kwargs
from core.config import Settings
from core.errors import ImageAIError
from core.video.render_settings import DEFAULT_PROVIDER
from gui.video.control_rules import Offer
from providers import registry
from providers.base import Capabilities, ModelInfo

log = logging.getLogger(__name__)

DEPLOYMENT_LABELS = {"fal": "Fal API", "replicate": "Replicate API", "local": "Local GPU", "comfyui": "ComfyUI"}
LOCAL_CPU_LABEL = "Local (CPU, very slow)"
LOCAL_DEPLOYMENTS = ("local", "comfyui")
LTX = "ltx-video"
ROOT = Path(__file__).resolve().parents[2]
DETECT_CODE = "from providers.ltx.local_device import detect; print(detect().model_dump_json())"
DETECT_TIMEOUT_S = 120
MAX_PROBED_SERVERS = 4
PROBE_TIMEOUT_S = 0.3
#: said when no LTX-Video deployment can run on this machine
NO_DEPLOYMENT_ADVICE = ("No LTX-Video deployment can run on this machine yet: add a fal or Replicate key, or a "
                        "ComfyUI server, in Settings (a local render needs a CUDA or Apple GPU). Animatic renders "
                        "the storyboard offline, free, meanwhile.")


class ProviderInfo:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._statuses: Optional[list[registry.ProviderStatus]] = None
        self._caps: dict[str, Capabilities] = {}
        self._deployments: Optional[dict[str, Optional[str]]] = None
        # this machine's GPU (providers.ltx.local_device.Accelerator), or the error of looking for it; the hardware
        # does not change, so refresh() keeps it. Detecting imports torch: only detect_local_device, off the GUI thread
        self._accelerator = None
        self._accelerator_error: Optional[str] = None
        self._offers: Optional[list[Offer]] = None
        self._comfyui_up = False  # a ComfyUI server answered (checked in prefetch, off the GUI thread)

    def refresh(self, settings: Optional[Settings] = None) -> None:
        if settings is not None:
            self.settings = settings
        self._statuses = None
        self._caps.clear()
        self._deployments = None
        self._offers = None
        self._comfyui_up = False

    def prefetch(self) -> None:
        """Ask every provider once (on a worker thread: checking an SDK or a GPU can mean importing it, which takes
        seconds); afterwards the widgets read the cached answers without waiting."""
        for status in self.statuses():
            if status.available:
                self.capabilities(status.name)
        if any(s.name == LTX for s in self.statuses()):
            self.deployment_status()  # shown (with reasons) even when no deployment can run here
            self._comfyui_up = self._comfyui_reachable()

    def _comfyui_reachable(self) -> bool:
        """Whether a configured ComfyUI server answers a TCP connect (the default address is always configured, so
        being configured says nothing about a server running)."""
        try:
            from providers.ltx.comfyui_servers import configured_servers

            servers = configured_servers(self.settings)
        except (ImportError, ImageAIError):
            return False
        for server in servers[:MAX_PROBED_SERVERS]:
            parts = urlsplit(server.url)
            try:
                with socket.create_connection((parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)),
                                              timeout=PROBE_TIMEOUT_S):
                    return True
            except (OSError, ValueError):
                continue
        return False

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

    # --- defaults: what an unset value means ----------------------------------------------------------------
    def display_name(self, provider: Optional[str]) -> str:
        status = self.status(provider or DEFAULT_PROVIDER)
        return status.display_name if status is not None else (provider or DEFAULT_PROVIDER)

    @staticmethod
    def default_deployment() -> Optional[str]:
        catalog = _ltx_catalog()
        return getattr(catalog, "DEFAULT_DEPLOYMENT", "fal")

    def effective_deployment(self, provider: Optional[str], deployment: Optional[str]) -> Optional[str]:
        """The deployment a render uses: the chosen one, or LTX-Video's default; None for other providers."""
        if (provider or DEFAULT_PROVIDER) != LTX:
            return None
        return deployment or self.default_deployment()

    def default_model(self, provider: Optional[str], deployment: Optional[str]) -> Optional[ModelInfo]:
        """The model a render uses when none is chosen (the provider's own rule)."""
        provider = provider or DEFAULT_PROVIDER
        deployment = self.effective_deployment(provider, deployment)
        models = self.models(provider, deployment)
        if provider == LTX and deployment:
            catalog = _ltx_catalog()
            wanted = catalog.default_model(deployment) if catalog is not None else None
            return next((m for m in models if m.id == wanted), models[0] if models else None)
        return models[0] if models else None

    def model_info(self, provider: Optional[str], model: Optional[str],
                   deployment: Optional[str]) -> Optional[ModelInfo]:
        """The ModelInfo a render with these choices uses (None when this build does not know it)."""
        provider = provider or DEFAULT_PROVIDER
        if model is None:
            return self.default_model(provider, deployment)
        deployment = self.effective_deployment(provider, deployment)
        return next((m for m in self.models(provider, deployment) if m.id == model), None)

    def offer(self, provider: Optional[str], model: Optional[str], deployment: Optional[str]) -> Optional[Offer]:
        provider = provider or DEFAULT_PROVIDER
        info = self.model_info(provider, model, deployment)
        if info is None:
            return None
        dep = self.effective_deployment(provider, deployment)
        return Offer(provider, self.display_name(provider), dep, DEPLOYMENT_LABELS.get(dep, dep or ""), info)

    def offers(self) -> list[Offer]:
        """Every model of every provider this build knows (LTX-Video once per deployment), for naming the models
        that take a setting the chosen one ignores. From the catalogs only: no network, no SDK."""
        if self._offers is None:
            out: list[Offer] = []
            for status in self.statuses():
                if status.name == LTX:
                    for dep, label in DEPLOYMENT_LABELS.items():
                        out += [Offer(LTX, status.display_name, dep, label, m) for m in self.models(LTX, dep)]
                elif status.name in self._caps or status.available:
                    out += [Offer(status.name, status.display_name, None, "", m)
                            for m in self.models(status.name)]
            self._offers = out
        return self._offers

    def deployment_status(self) -> dict[str, Optional[str]]:
        """deployment id -> reason it cannot be used here, or None when it can. The local deployment also needs a
        device once the GPU check (detect_local_device) has answered."""
        reasons = dict(self._base_deployment_status())
        if reasons.get("local") is None and self.local_device_known():
            reasons["local"] = self._local_device()[1]
        return reasons

    def runnable_deployment(self) -> Optional[str]:
        """The first deployment that can render here (in the catalog's order): a cloud one with its key, ComfyUI
        with a server that answers, the local one only once the GPU check found a device for it; None when none."""
        reasons = self.deployment_status()
        for dep in DEPLOYMENT_LABELS:
            if reasons.get(dep) is not None:
                continue
            if dep == "local" and self._local_device()[0] is None or dep == "comfyui" and not self._comfyui_up:
                continue
            return dep
        return None

    def deployment_labels(self) -> dict[str, str]:
        labels = dict(DEPLOYMENT_LABELS)
        if self._local_device()[0] == "cpu":
            labels["local"] = LOCAL_CPU_LABEL
        return labels

    # --- the local deployment's device ----------------------------------------------------------------------
    def local_device_needed(self) -> bool:
        """Whether the GPU check is still to be made: the local deployment is installed and the device unknown."""
        return not self.local_device_known() and self._base_deployment_status().get("local") is None

    def local_device_known(self) -> bool:
        return self._accelerator is not None or self._accelerator_error is not None

    def detect_local_device(self):
        """Look for a CUDA/MPS device. Call it on a worker thread and hand the result to set_local_device on the GUI
        thread. Returns the Accelerator, or the error text. Torch is imported in a child process: importing it on a
        thread of the app holds the interpreter lock for long stretches (a 330 ms stall of the window, measured)."""
        from providers.ltx.local_device import Accelerator, detect_cached

        if getattr(sys, "frozen", False):  # a bundled app has no interpreter to start: check here, on this thread
            try:
                return detect_cached()
            except Exception as exc:  # a broken torch install must not take the window down; the reason is shown
                return f"checking the GPU failed: {exc}"
        try:
            done = subprocess.run([sys.executable, "-c", DETECT_CODE], cwd=ROOT, capture_output=True, text=True,
                                  timeout=DETECT_TIMEOUT_S, **child_kwargs())
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("checking the GPU failed: %s", exc)
            return f"checking the GPU failed: {exc}"
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            why = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            log.warning("checking the GPU failed: %s", done.stderr.strip())
            return f"checking the GPU failed: {why}"
        try:
            return Accelerator.model_validate_json(lines[-1])
        except ValueError as exc:
            return f"checking the GPU failed: {exc}"

    def local_device_result(self):
        """The GPU check's answer (an Accelerator, or why there is none), or None before it answered."""
        return self._accelerator if self._accelerator is not None else self._accelerator_error

    def set_local_device(self, result) -> None:
        if isinstance(result, str):
            self._accelerator, self._accelerator_error = None, result
        else:
            self._accelerator, self._accelerator_error = result, None

    def _local_device(self) -> tuple[Optional[str], Optional[str]]:
        """(device a local render would use with the current settings, None) or (None, why there is none)."""
        if self._accelerator_error is not None:
            return None, self._accelerator_error
        if self._accelerator is None:
            return None, None
        from providers.ltx.local_device import choose_device

        try:
            return choose_device(self.settings.ltx_local_device, self._accelerator), None
        except ImageAIError as exc:
            return None, str(exc)

    def _base_deployment_status(self) -> dict[str, Optional[str]]:
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
