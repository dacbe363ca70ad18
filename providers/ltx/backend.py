"""The contract of one LTX deployment backend (fal, replicate, local, comfyui). LTXVideoProvider validates a request
against the catalog, then hands it to the backend of the request's deployment; backends speak the same vocabulary
so the provider never branches on the deployment."""
from __future__ import annotations

import abc
from typing import Optional

from core.config import Settings
from providers.base import ProgressCallback, RenderRequest, RenderResult, no_progress


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

    def validate(self, request: RenderRequest) -> None:
        """Deployment-specific checks beyond the catalog's (raise InvalidRequestError). No network call."""

    @abc.abstractmethod
    async def submit(self, request: RenderRequest, progress: ProgressCallback = no_progress) -> str:
        ...

    @abc.abstractmethod
    async def wait(self, job_id: str, request: RenderRequest,
                   progress: ProgressCallback = no_progress) -> RenderResult:
        ...

    async def cancel(self, job_id: str) -> None:
        """Best effort."""

    async def aclose(self) -> None:
        """Release clients, sockets and worker processes."""
