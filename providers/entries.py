"""What the video and image provider registries share: a named lazy entry ("module:callable"), finding one by name
(the error lists the names there are), and a provider's status (available, or why not) without crashing the app."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence, TypeVar

from core.errors import ImageAIError, InvalidRequestError


@dataclass(frozen=True)
class Entry:
    name: str
    display_name: str
    target: str  # "module:callable" returning a provider given Settings
    kind: str = "video"


@dataclass(frozen=True)
class Status:
    name: str
    display_name: str
    available: bool
    reason: str = ""


E = TypeVar("E", bound=Entry)


def find_entry(entries: Sequence[E], name: str, what: str) -> E:
    for e in entries:
        if e.name == name:
            return e
    raise InvalidRequestError(f"unknown {what} {name!r}", field="provider", allowed=[e.name for e in entries])


def status_of(name: str, find: Callable[[str], Entry], reason_of: Callable[[str], Optional[str]]) -> Status:
    """`reason_of(name)` loads the provider and says why it cannot run here (None: it can)."""
    try:
        entry = find(name)
    except ImageAIError as exc:
        return Status(name, name, False, str(exc))
    try:
        reason = reason_of(name)
    except ImageAIError as exc:
        return Status(name, entry.display_name, False, str(exc))
    return Status(name, entry.display_name, not reason, reason or "")
