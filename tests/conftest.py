"""Shared fixtures: every test runs with its own config folder and no real keys, so nothing touches the user's
settings, keyring or the network."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# keyring must never reach a real desktop keyring from tests
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

KEY_VARS = ("FAL_KEY", "REPLICATE_API_TOKEN", "GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_API_KEY",
            "STABILITY_API_KEY", "IMAGEAI_FAL_URL", "IMAGEAI_REPLICATE_URL", "IMAGEAI_GEMINI_URL",
            "IMAGEAI_COMFYUI_URL", "IMAGEAI_FFMPEG", "IMAGEAI_PROVIDER_PLUGINS", "IMAGEAI_VERTEX_URL",
            "IMAGEAI_OPENAI_URL", "IMAGEAI_STABILITY_URL", "GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION",
            "GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GEMINI_BASE_URL", "GOOGLE_VERTEX_BASE_URL",
            "GOOGLE_APPLICATION_CREDENTIALS")


@pytest.fixture(autouse=True)
def fresh_comfyui_state():
    """ComfyUI servers' health, farm state and probe times are kept per URL for the life of the process (as in the
    app); a test's fake may get a port an earlier test's fake had, so each test starts with none of it."""
    import sys
    servers, farm, probe = (sys.modules.get(f"providers.ltx.comfyui_{m}") for m in ("servers", "farm", "probe"))
    if servers is not None:
        with servers.HEALTH._lock:
            servers.HEALTH._down.clear()
    if farm is not None:
        with farm.FARM._lock:
            farm.FARM._servers.clear()
    if probe is not None:
        probe._last_try.clear()
        probe._last_refresh.clear()
    yield


@pytest.fixture
def farm():
    """Three fake ComfyUI servers, a, b and c (the farm tests, CLI and window)."""
    from tests.fakes.comfyui_fake import FakeComfyUI
    servers = {name: FakeComfyUI().start() for name in "abc"}
    yield servers
    for s in servers.values():
        s.stop()


@pytest.fixture(autouse=True)
def isolated_config(tmp_path_factory, monkeypatch):
    cfg = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("IMAGEAI_CONFIG_DIR", str(cfg))
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    return cfg
