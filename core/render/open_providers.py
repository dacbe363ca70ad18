"""The providers one queue opened, by name (render and image queues alike): each made on first use and kept for the
run, all closed at its end, a failed close only logged."""
from __future__ import annotations

import logging
from typing import Callable, Generic, TypeVar

log = logging.getLogger(__name__)

P = TypeVar("P")


class OpenProviders(Generic[P]):
    def __init__(self, make: Callable[[str], P]):
        self._make = make
        self._open: dict[str, P] = {}

    def get(self, name: str) -> P:
        if name not in self._open:
            self._open[name] = self._make(name)
        return self._open[name]

    async def aclose(self) -> None:
        for provider in self._open.values():
            try:
                await provider.aclose()
            except Exception as exc:  # closing must not hide the run's own outcome
                log.warning("closing %s: %s", provider.name, exc)
        self._open.clear()
