"""Platform folders for settings, logs and caches. IMAGEAI_CONFIG_DIR moves all of them (tests, portable installs)."""
from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "ImageAI-Video"


def config_dir() -> Path:
    override = os.environ.get("IMAGEAI_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    override = os.environ.get("IMAGEAI_CONFIG_DIR")
    if override:
        return Path(override).expanduser() / "logs"
    import platformdirs
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    override = os.environ.get("IMAGEAI_CONFIG_DIR")
    if override:
        return Path(override).expanduser() / "cache"
    import platformdirs
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
