"""API keys. Resolution order: explicit argument > the client's own environment variable > OS keyring > a 0600 file
in the config folder (only where no keyring backend exists). Keys never reach project files, logs or output:
every key this module reads, from any source, is registered with core.redaction.

A key is trimmed of surrounding whitespace (a pasted key often ends in CR/LF) wherever it is read or stored. One that
still holds a control character or anything outside printable ASCII is refused by get_key with an AuthError that says
where it came from and what is wrong, before any request could carry it into a header (and from there into an
"Illegal header value" message that quotes it whole).
"""
from __future__ import annotations

import json
import logging
import os
import re
import stat
from pathlib import Path
from typing import Optional

from core.errors import AuthError
from core.paths import config_dir
from core.redaction import known_secrets as _registered
from core.redaction import redact as _redact
from core.redaction import remember_secret

__all__ = ["KEYRING_SERVICE", "ENV_VARS", "SERVICES", "remember_secret", "known_secrets", "redact", "get_key",
           "key_source", "key_problem", "set_key", "delete_key", "describe_problem", "trim_key"]

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
_ALL_ENV = tuple(name for names in ENV_VARS.values() for name in names)

log = logging.getLogger(__name__)
_env_seen: Optional[tuple[Optional[str], ...]] = None

# trimmed from both ends: whitespace (CR, LF, tabs, spaces) and the invisible marks a copy from a document adds
_TRIM = re.compile(r"^[\s\ufeff\u200b-\u200d\u2060]+|[\s\ufeff\u200b-\u200d\u2060]+$")
_CHAR_NAMES = {"\r": "CR", "\n": "LF", "\t": "tab", "\x00": "NUL", "\x7f": "DEL"}


def _sync_env() -> None:
    """Register the keys in the environment, even those nobody asked for yet (an SDK may read them itself)."""
    global _env_seen
    values = tuple(os.environ.get(name) for name in _ALL_ENV)
    if values != _env_seen:
        for value in values:
            remember_secret(value)
        _env_seen = values


def known_secrets() -> set[str]:
    _sync_env()
    return _registered()


def redact(text: str) -> str:
    _sync_env()
    return _redact(text)


def describe_problem(value: str) -> Optional[str]:
    """What is wrong with a trimmed key, without quoting any of it; None when it is fine."""
    if not value:
        return "is empty"
    for index, char in enumerate(value):
        if " " < char < "\x7f":
            continue
        position = index + 1
        if char == " ":
            return f"contains a space at position {position}; paste it again"
        if char < " " or char == "\x7f":
            name = _CHAR_NAMES.get(char, f"U+{ord(char):04X}")
            return f"contains a control character ({name}) at position {position}; paste it again"
        return (f"contains a character outside printable ASCII (U+{ord(char):04X}) at position {position}; "
                "paste it again")
    return None


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
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def _write_file(data: dict[str, str]) -> None:
    from core.atomic import atomic_write_text

    path = _file_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(data, indent=2), mode=stat.S_IRUSR | stat.S_IWUSR)


def trim_key(value: Optional[str]) -> str:
    """A key without the whitespace and invisible marks around it (a pasted key often ends in CR/LF)."""
    return _TRIM.sub("", value or "")


def _clean(value: Optional[str]) -> Optional[str]:
    """Registered for redaction as read (parts too, so a refused key is masked as well), then trimmed."""
    if not value:
        return None
    remember_secret(value)
    value = trim_key(value)
    remember_secret(value)
    return value or None


def _where(service: str, source: str) -> str:
    if source == "argument":
        return f"the {service} key given as an argument"
    if source.startswith("environment"):
        return f"the {service} key in the environment variable {source[len('environment ('):-1]}"
    if source == "keyring":
        return f"the {service} key saved in the system keyring ({KEYRING_SERVICE}/{service})"
    return f"the {service} key saved in the key file {_file_path()}"


def _resolve(service: str, explicit: Optional[str]) -> tuple[Optional[str], Optional[str]]:
    """(trimmed key, source) from the first source that has one, unchecked."""
    _check_service(service)
    value = _clean(explicit)
    if value:
        return value, "argument"
    for name in ENV_VARS[service]:
        value = _clean(os.environ.get(name))
        if value:
            return value, f"environment ({name})"
    kr = _keyring()
    if kr is not None:
        try:
            value = _clean(kr.get_password(KEYRING_SERVICE, service))
        except Exception as exc:  # locked or broken keyring: fall through to the file
            log.warning("keyring read failed: %s", type(exc).__name__)
            value = None
        if value:
            return value, "keyring"
    value = _clean(_read_file().get(service))
    if value:
        return value, "file"
    return None, None


def get_key(service: str, explicit: Optional[str] = None) -> Optional[str]:
    """The trimmed key for a service, or None. AuthError when the key found cannot be sent (see key_problem)."""
    value, source = _resolve(service, explicit)
    if value is not None:
        problem = describe_problem(value)
        if problem:
            raise AuthError(f"{_where(service, source)} {problem}")
    return value


def key_source(service: str, explicit: Optional[str] = None) -> Optional[str]:
    """Where the key comes from ("argument", "environment (NAME)", "keyring", "file"), or None. Never raises for a
    bad key: the settings dialog shows where it is so it can be fixed there."""
    return _resolve(service, explicit)[1]


def key_problem(service: str, explicit: Optional[str] = None) -> Optional[str]:
    """The message get_key would raise for the key found, or None when it is fine or there is none."""
    value, source = _resolve(service, explicit)
    problem = describe_problem(value) if value is not None else None
    return f"{_where(service, source)} {problem}" if problem else None


def set_key(service: str, value: str) -> str:
    """Store a key, trimmed; returns where it went ("keyring" or "file"). AuthError for a key that cannot work."""
    _check_service(service)
    value = _clean(value) or ""
    problem = describe_problem(value)
    if problem:
        raise AuthError(f"the {service} key to save {problem}")
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
