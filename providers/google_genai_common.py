"""What the Google providers (Veo, the Gemini image models) share about google-genai: a client over our own httpx
client, made again for each event loop (an httpx client belongs to the loop that made it), and the RetryInfo delay
of an error answer. Imports google-genai only when a client is made."""
from __future__ import annotations

import asyncio
import re
from typing import Any, Callable, Optional


class GenaiClient:
    """The google-genai client of one provider, with the httpx client under it."""

    def __init__(self, timeout_s: float):
        self.timeout_s = timeout_s
        self.client: Any = None
        self.http: Any = None
        self.loop: Optional[asyncio.AbstractEventLoop] = None

    def get(self, base_url: Optional[str], arguments: Callable[[], dict],
            on_error: Optional[Callable[[Exception], Exception]] = None) -> Any:
        """The client for the running loop; `arguments()` says how genai.Client authenticates, `on_error` maps what
        its constructor raises (a missing project, location or key the SDK checks itself)."""
        loop = asyncio.get_running_loop()
        if self.client is None or self.loop is not loop:
            if self.client is not None:
                self.client.close()  # the SDK's own sync client; the async one died with its loop
            import httpx
            from google import genai
            from google.genai import types
            self.http = httpx.AsyncClient(follow_redirects=True, timeout=httpx.Timeout(self.timeout_s, connect=15.0))
            options = types.HttpOptions(base_url=base_url or None, timeout=int(self.timeout_s * 1000),
                                        httpx_async_client=self.http)
            try:
                self.client = genai.Client(**arguments(), http_options=options)
            except Exception as exc:
                if on_error is None:
                    raise
                raise on_error(exc) from exc
            self.loop = loop
        return self.client

    async def aclose(self) -> None:
        client, http = self.client, self.http
        self.client = self.http = None
        if self.loop is not asyncio.get_running_loop():
            return  # clients of another (ended) loop died with it: nothing to close here
        if client is not None:
            client.close()
            await client.aio.aclose()
        if http is not None:
            await http.aclose()


def retry_delay(exc: Any) -> Optional[float]:
    """Seconds from an error answer's RetryInfo detail ("retryDelay": "30s"), if any."""
    details = getattr(exc, "details", None)
    try:
        for item in details.get("error", {}).get("details", []) or []:
            m = re.fullmatch(r"(\d+(?:\.\d+)?)s", str(item.get("retryDelay", "")))
            if m:
                return float(m.group(1))
    except AttributeError:
        pass
    return None
