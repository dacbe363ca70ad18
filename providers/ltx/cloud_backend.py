"""What the cloud backends (Fal, Replicate) share: one HTTP client for downloads, kept for the backend's life."""
from __future__ import annotations

from typing import Optional

import httpx

from providers.ltx import transfer
from providers.ltx.backend import LTXBackend


class CloudBackend(LTXBackend):
    def __init__(self, settings):
        super().__init__(settings)
        self.poll_interval = settings.poll_interval_s
        self._http: Optional[httpx.AsyncClient] = None  # downloads, kept for the backend's lifetime
        self._cancelled: set[str] = set()  # ids the user cancelled: their end is a cancel, not a failure

    def _downloads(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = transfer.http_client()
        return self._http

    async def _close_downloads(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
