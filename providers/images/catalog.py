"""The catalogs of the image providers as capabilities: each providers/images/catalogs/<name>.py holds plain data
(models, sizes, inputs, prices); this turns it into the contract's ImageCapabilities, once."""
from __future__ import annotations

import functools
import importlib

from core.images.contract import ImageCapabilities, ImageModelInfo

NEEDS_KEY = {"google": "google", "openai": "openai", "stability": "stability", "local_sd": None}


@functools.lru_cache(maxsize=None)
def capabilities(name: str, provider: str) -> ImageCapabilities:
    data = importlib.import_module(f"providers.images.catalogs.{name}")
    return ImageCapabilities(name=provider, display_name=data.DISPLAY_NAME,
                             models=[ImageModelInfo(**m) for m in data.MODELS], default_model=data.DEFAULT_MODEL,
                             needs_key=NEEDS_KEY[name], offline=NEEDS_KEY[name] is None)
