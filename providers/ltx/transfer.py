"""Uploads and downloads shared by the Fal and Replicate backends.

Local inputs go through the service's own upload; only small images travel inline as data URIs (large data URIs
time out or get refused). Results are downloaded into a temp file next to the destination, checked to be a
playable clip of the expected length, then moved into place, so a half-written clip never looks like a take.
"""
from __future__ import annotations

import asyncio
import base64
import functools
import logging
import mimetypes
import os
import ssl
import tempfile
from pathlib import Path
from typing import Awaitable, Callable, Optional

import httpx

from core.errors import ImageAIError, InvalidRequestError, TransientError
from core.video.media import MediaInfo, check_playable_clip, probe

log = logging.getLogger(__name__)

#: images up to this size go inline as data URIs; larger ones and every video are uploaded
DATA_URI_MAX_BYTES = 256 * 1024
DOWNLOAD_ATTEMPTS = 3
DOWNLOAD_TIMEOUT = httpx.Timeout(60.0, connect=15.0)

Uploader = Callable[[Path], Awaitable[str]]


def mime_of(path: Path) -> str:
    return mimetypes.guess_type(str(path))[0] or "application/octet-stream"


def data_uri(path: Path) -> str:
    data = Path(path).read_bytes()
    return f"data:{mime_of(path)};base64,{base64.b64encode(data).decode()}"


async def to_url(path: Path, upload: Uploader, *, inline_ok: bool = True) -> str:
    """A URL the service can fetch for a local file: a data URI for a small image, else the service's upload."""
    path = Path(path)
    if inline_ok and mime_of(path).startswith("image/") and path.stat().st_size <= DATA_URI_MAX_BYTES:
        return data_uri(path)
    return await upload(path)


async def media_seconds(path: Path) -> float:
    info = await asyncio.to_thread(probe, Path(path))
    return info.duration


@functools.lru_cache(maxsize=1)
def ssl_context() -> ssl.SSLContext:
    """One verified TLS context for every download client (building one reads the CA bundle: ~0.1 s of CPU)."""
    import certifi
    return ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE") or certifi.where())


def http_client() -> httpx.AsyncClient:
    """A download client for a backend to keep for its lifetime (connections and TLS context reused)."""
    return httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT, follow_redirects=True, verify=ssl_context())


class _WrongLength(Exception):
    """The service delivered a whole clip of the wrong length: downloading again will not help."""


def _temp_in(folder: Path, name: str) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    os.close(fd)
    return Path(tmp)


async def _fetch(client: httpx.AsyncClient, url: str, tmp: Path,
                 progress: Optional[Callable[[int, Optional[int]], None]]) -> None:
    if url.startswith("data:"):
        header, _, payload = url.partition(",")
        tmp.write_bytes(base64.b64decode(payload) if ";base64" in header else payload.encode())
        return
    async with client.stream("GET", url) as resp:
        if resp.status_code >= 400:
            raise httpx.HTTPStatusError(f"HTTP {resp.status_code}", request=resp.request, response=resp)
        total = int(resp.headers.get("content-length") or 0) or None
        done = 0
        with open(tmp, "wb") as fh:
            async for chunk in resp.aiter_bytes(1 << 16):
                fh.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)


async def download_clip(service: str, url: str, dest: Path, *, expected_duration: Optional[float],
                        min_duration: Optional[float] = None, client: Optional[httpx.AsyncClient] = None,
                        progress: Optional[Callable[[int, Optional[int]], None]] = None) -> MediaInfo:
    """Download `url` to `dest` through a temp file in the same folder and check it is a playable clip.

    Retries dropped connections and truncated files (a download is free to repeat); raises TransientError when the
    file never arrives whole, InvalidRequestError when the service's clip has the wrong length."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    own = client is None
    client = client or http_client()
    try:
        return await _download(service, client, url, dest, expected_duration, min_duration, progress)
    finally:
        if own:
            await client.aclose()


async def _download(service, client, url, dest, expected_duration, min_duration, progress) -> MediaInfo:
    last: Optional[BaseException] = None
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        tmp = _temp_in(dest.parent, dest.name)
        try:
            await _fetch(client, url, tmp, progress)
            info = await asyncio.to_thread(check_playable_clip, tmp, None)
            if expected_duration and abs(info.duration - expected_duration) > max(0.6, expected_duration * 0.15):
                raise _WrongLength(f"the {service} clip is {info.duration:.2f} s, expected about "
                                   f"{expected_duration:.2f} s")
            if min_duration and info.duration < min_duration - 0.6:
                raise _WrongLength(f"the {service} clip is {info.duration:.2f} s, expected at least "
                                   f"{min_duration:.2f} s")
            os.replace(tmp, dest)
            return info.model_copy(update={"path": dest})
        except httpx.HTTPStatusError as exc:
            last = exc
            if exc.response.status_code < 500 and exc.response.status_code not in (408, 429):
                break
        except (httpx.TransportError, OSError) as exc:
            last = exc
        except _WrongLength as exc:
            raise InvalidRequestError(str(exc), field="clip", not_created=False) from None
        except InvalidRequestError as exc:
            last = exc  # unreadable file: most likely truncated, fetch again
        finally:
            if tmp.exists():
                tmp.unlink()
        log.info("%s download attempt %d failed: %s", service, attempt, last)
        if attempt < DOWNLOAD_ATTEMPTS:
            await asyncio.sleep(min(0.2 * 2 ** attempt, 5))
    if isinstance(last, ImageAIError):
        raise TransientError(f"{service}: the downloaded clip is not playable ({last})", not_created=False)
    raise TransientError(f"{service}: the clip could not be downloaded ({type(last).__name__}: {last})",
                         not_created=False)
