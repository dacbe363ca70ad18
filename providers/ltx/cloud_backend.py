"""What the cloud backends (Fal, Replicate) share: one HTTP client for downloads, kept for the backend's life, and
the bounded download of a finished job's clip."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import httpx

from core.video.media import MediaInfo
from providers.ltx import transfer
from providers.ltx.backend import LTXBackend

if TYPE_CHECKING:
    from providers.ltx.plan import LTXPlan


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

    def download_cap(self, plan: "LTXPlan") -> int:
        """The size cap of this plan's clip: its frame size and length (an extend: its least length plus
        transfer.CAP_UNKNOWN_SECONDS), at least the download_cap_mb setting."""
        c = plan.config
        if c.width and c.height:
            width, height = c.width, c.height
        else:
            from core.video.render_settings import frame_size
            try:
                width, height = frame_size(c.resolution, c.aspect_ratio)
            except (ValueError, AttributeError):  # an id the size table does not know: counts as 1080p
                width, height = None, None
        seconds = plan.expected_duration or ((plan.min_duration or c.duration or 0.0) + transfer.CAP_UNKNOWN_SECONDS)
        return transfer.download_cap_bytes(width, height, seconds, self.settings)

    async def download_result(self, service: str, url: object, plan: "LTXPlan", *, field: str) -> MediaInfo:
        """Download the finished job's clip (`url`, read from the result's `field`, e.g. "video.url") to the plan's
        output path under download_cap(plan); see transfer.download_clip for the errors."""
        return await transfer.download_clip(service, url, plan.config.output_path,
                                            expected_duration=plan.expected_duration,
                                            min_duration=plan.min_duration, client=self._downloads(),
                                            cap=self.download_cap(plan), field=field)
