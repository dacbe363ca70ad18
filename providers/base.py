"""The provider contract as the providers see it: the data types and the abstract provider live in core
(core/render/contract.py) so that core needs no provider; this module re-exports them with the typed error set,
and the image-provider contract (core/images/contract.py)."""
from __future__ import annotations

from core.errors import (  # noqa: F401  (re-exported: the typed error set is part of the contract)
    AuthError, CancelledError, ContentRejectedError, ImageAIError, InvalidRequestError, PaymentError,
    ProviderTimeoutError, RateLimitedError, TransientError, UnavailableError,
)
from core.render.contract import (  # noqa: F401  (re-exported)
    MODES, Adjustment, Capabilities, IgnoredSetting, ModelInfo, ProgressCallback, ProgressEvent, RenderPlan,
    RenderRequest, RenderResult, VideoProvider, no_progress,
)
from core.images.contract import ImageProvider  # noqa: F401  (re-exported)
