"""The contract of one LTX deployment backend (fal, replicate, local, comfyui). LTXVideoProvider prepares a request
into an LTX plan (providers/ltx/plan.py), then hands the plan to the backend of its deployment; backends speak the
same vocabulary so the provider never branches on the deployment, and never validate the plan again."""
from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Optional

from core.config import Settings
from core.render.contract import ProgressCallback, RenderResult, no_progress

if TYPE_CHECKING:
    from providers.ltx.plan import LTXPlan


class LTXBackend(abc.ABC):
    #: "fal", "replicate", "local" or "comfyui"
    deployment: str = ""
    #: seconds between status polls
    poll_interval: float = 2.0

    def __init__(self, settings: Settings):
        self.settings = settings

    def unavailable_reason(self) -> Optional[str]:
        """Why this backend cannot run here (no key, SDK, GPU or server), or None. No network call."""
        return None

    def check(self, plan: "LTXPlan") -> None:
        """Deployment-specific checks beyond the catalog's, made once in prepare (raise InvalidRequestError).
        No network call."""

    @abc.abstractmethod
    async def submit(self, plan: "LTXPlan", progress: ProgressCallback = no_progress) -> str:
        ...

    @abc.abstractmethod
    async def wait(self, job_id: str, plan: "LTXPlan", progress: ProgressCallback = no_progress) -> RenderResult:
        ...

    async def cancel(self, job_id: str) -> None:
        """Best effort."""

    async def aclose(self) -> None:
        """Release clients, sockets and worker processes."""
