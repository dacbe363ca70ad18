"""What the two Veo deployments share: one google-genai client per backend, talking through an httpx client of our
own (the same transport whether or not aiohttp is installed, redirects followed as the SDK's own client does, closed
by aclose); starting one call of a plan, polling an operation, and reading a finished operation's video.

The deployments differ in how the client authenticates, how an extension receives the previous clip and how the
clip is fetched: providers/veo/gemini_backend.py and vertex_backend.py.
"""
from __future__ import annotations

import abc
import importlib.util
from pathlib import Path
from typing import Any, Optional

from core.config import Settings
from core.errors import ContentRejectedError, TransientError, UnavailableError
from providers.google_genai_common import GenaiClient
from providers.veo import errors
from providers.veo.plan import VeoPlan
from providers.veo.requests import config_for, source_for

REQUEST_TIMEOUT_S = 120.0  # one HTTP request (a submit carries the images inline)


def genai_version() -> Optional[str]:
    """The installed google-genai version, or None when it is missing (found without importing it)."""
    if importlib.util.find_spec("google.genai") is None:
        return None
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("google-genai")
    except PackageNotFoundError:  # importable but not installed as a distribution (a source checkout)
        return "unknown"


class VeoBackend(abc.ABC):
    #: "gemini" or "vertex"
    deployment: str = ""
    #: the settings field holding the service address (with its environment override)
    url_setting: str = ""
    #: whether fetching a finished operation's clip again can give other bytes (a download, not inline bytes)
    refetch_helps: bool = True

    def __init__(self, settings: Settings, *, credentials: Any = None):
        self.settings = settings
        self.credentials = credentials  # Vertex with a project: google-auth credentials (None: ADC)
        self._genai = GenaiClient(REQUEST_TIMEOUT_S)

    # ---- what a deployment says ----
    def unavailable_reason(self) -> Optional[str]:
        """Why this deployment cannot run here (SDK, key, project), or None. No network."""
        if genai_version() is None:
            return "Veo needs the google-genai package: pip install 'google-genai>=2.34,<3'"
        return None

    @abc.abstractmethod
    def client_arguments(self) -> dict:
        """How genai.Client authenticates on this deployment."""

    @abc.abstractmethod
    def video_input(self, types: Any, video: Any) -> Any:
        """The input of an extension: the previous call's result as this deployment takes it."""

    @abc.abstractmethod
    def user_video(self, types: Any, path: Path) -> Any:
        """The input of an extension of the user's own clip."""

    @abc.abstractmethod
    async def save(self, video: Any, dest: Path) -> None:
        """Write a finished operation's video to `dest`."""

    # ---- the client ----
    def client(self) -> Any:
        reason = self.unavailable_reason()
        if reason:
            raise UnavailableError(reason)
        return self._genai.get(self.settings.effective(self.url_setting), self.client_arguments,
                               lambda exc: errors.from_exception(self.deployment, exc, on_submit=True))

    @staticmethod
    def types() -> Any:
        from google.genai import types
        return types

    # ---- one call ----
    async def start(self, plan: VeoPlan, index: int, video: Any = None) -> str:
        """Submit call `index` of the plan; returns its operation name (the job id of a first call)."""
        client, types = self.client(), self.types()
        try:
            op = await client.aio.models.generate_videos(model=plan.model, source=source_for(types, plan, index, video),
                                                         config=config_for(types, plan, index))
        except Exception as exc:
            raise errors.from_exception(self.deployment, exc, on_submit=True) from exc
        if not getattr(op, "name", None):
            # a garbled answer to a submit may still mean the job exists: never submit again on it
            raise TransientError(f"Veo on {self.deployment}: the answer to the submit names no operation",
                                 not_created=False)
        return op.name

    async def poll(self, name: str) -> Any:
        client, types = self.client(), self.types()
        try:
            return await client.aio.operations.get(types.GenerateVideosOperation(name=name))
        except Exception as exc:
            raise errors.from_exception(self.deployment, exc) from exc

    def video_of(self, op: Any) -> Any:
        """The video of a finished operation; the typed error when it failed or the filters removed the video."""
        if op.error:
            raise errors.operation_error(self.deployment, op.error)
        result = op.response or op.result
        videos = getattr(result, "generated_videos", None) or []
        if videos and videos[0].video is not None:
            return videos[0].video
        reasons = getattr(result, "rai_media_filtered_reasons", None)
        count = getattr(result, "rai_media_filtered_count", None)
        if reasons or count:
            raise errors.filtered(self.deployment, reasons, count)
        # an operation that succeeded without a video: the service's filters, which do not always say so
        raise ContentRejectedError(f"Veo on {self.deployment} returned no video and no reason (most often its "
                                   "safety filters); change the prompt or the images")

    async def aclose(self) -> None:
        await self._genai.aclose()
