"""API keys. Resolution order: explicit argument > the client's own environment variable > OS keyring > a 0600 file
in the config folder (only where no keyring backend exists). Keys never reach project files, logs or output:
every key this module hands out is registered with the logging redaction filter.
"""
from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import Optional

from core.paths import config_dir

KEYRING_SERVICE = "imageai-video"

# service -> environment variables its client reads, in priority order
ENV_VARS: dict[str, tuple[str, ...]] = {
    "fal": ("FAL_KEY",),
    "replicate": ("REPLICATE_API_TOKEN",),
    "google": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "openai": ("OPENAI_API_KEY",),
    "stability": ("STABILITY_API_KEY",),
}
SERVICES = tuple(ENV_VARS)

_known_secrets: set[str] = set()
log = logging.getLogger(__name__)


def remember_secret(value: Optional[str]) -> None:
    """Register a value to be redacted from every log record and error shown to a user."""
    if value and len(value) >= 6:
        _known_secrets.add(value)


def known_secrets() -> set[str]:
    for names in ENV_VARS.values():
        for name in names:
            remember_secret(os.environ.get(name))
    return set(_known_secrets)


def redact(text: str) -> str:
    for secret in sorted(known_secrets(), key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
    return text


def _check_service(service: str) -> None:
    if service not in ENV_VARS:
        raise ValueError(f"unknown service {service!r} (allowed: {', '.join(SERVICES)})")


def _keyring():
    """The keyring module when a real backend exists, else None (then the 0600 file is used)."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a broken backend configuration must not stop the app
        log.warning("keyring unusable: %s", type(exc).__name__)
        return None
    if isinstance(backend, fail.Keyring) or "chainer" in type(backend).__module__ and not backend.backends:
        return None
    return keyring


def _file_path() -> Path:
    return config_dir() / "keys.json"


def _read_file() -> dict[str, str]:
    path = _file_path()
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_file(data: dict[str, str]) -> None:
    from core.atomic import atomic_write_text

    path = _file_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(data, indent=2), mode=stat.S_IRUSR | stat.S_IWUSR)


def get_key(service: str, explicit: Optional[str] = None) -> Optional[str]:
    """The key for a service, or None. Where it came from is given by key_source()."""
    value, _ = _resolve(service, explicit)
    return value


def key_source(service: str, explicit: Optional[str] = None) -> Optional[str]:
    return _resolve(service, explicit)[1]


def _resolve(service: str, explicit: Optional[str]) -> tuple[Optional[str], Optional[str]]:
    _check_service(service)
    if explicit:
        remember_secret(explicit)
        return explicit, "argument"
    for name in ENV_VARS[service]:
        if os.environ.get(name):
            remember_secret(os.environ[name])
            return os.environ[name], f"environment ({name})"
    kr = _keyring()
    if kr is not None:
        try:
            value = kr.get_password(KEYRING_SERVICE, service)
        except Exception as exc:  # locked or broken keyring: fall through to the file
            log.warning("keyring read failed: %s", type(exc).__name__)
            value = None
        if value:
            remember_secret(value)
            return value, "keyring"
    value = _read_file().get(service)
    if value:
        remember_secret(value)
        return value, "file"
    return None, None


def set_key(service: str, value: str) -> str:
    """Store a key; returns where it went ("keyring" or "file")."""
    _check_service(service)
    remember_secret(value)
    kr = _keyring()
    if kr is not None:
        try:
            kr.set_password(KEYRING_SERVICE, service, value)
            return "keyring"
        except Exception as exc:
            log.warning("keyring write failed, using the key file: %s", type(exc).__name__)
    data = _read_file()
    data[service] = value
    _write_file(data)
    return "file"


def delete_key(service: str) -> None:
    _check_service(service)
    kr = _keyring()
    if kr is not None:
        try:
            kr.delete_password(KEYRING_SERVICE, service)
        except Exception as exc:  # nothing stored there is fine
            log.debug("keyring delete: %s", type(exc).__name__)
    data = _read_file()
    if data.pop(service, None) is not None:
        _write_file(data)
