"""The provider contract as the providers see it: the data types and the abstract provider live in core
(core/render/contract.py) so that core needs no provider; this module re-exports them with the typed error set,
and holds the image-provider contract."""
from __future__ import annotations

import abc
from pathlib import Path
from typing import Optional

from core.errors import (  # noqa: F401  (re-exported: the typed error set is part of the contract)
    AuthError, CancelledError, ContentRejectedError, ImageAIError, InvalidRequestError, PaymentError,
    ProviderTimeoutError, RateLimitedError, TransientError, UnavailableError,
)
from core.render.contract import (  # noqa: F401  (re-exported)
    MODES, Adjustment, Capabilities, IgnoredSetting, ModelInfo, ProgressCallback, ProgressEvent, RenderPlan,
    RenderRequest, RenderResult, VideoProvider, no_progress,
)


class ImageProvider(abc.ABC):
    """Contract for the image providers (start frames, reference images); they arrive with their own issue."""

    name: str = ""

    @abc.abstractmethod
    def capabilities(self) -> Capabilities:
        ...

    @abc.abstractmethod
    async def generate(self, prompt: str, output_path: Path, *, width: int, height: int,
                       seed: Optional[int] = None) -> Path:
        ...
