"""Uploads and downloads shared by the Fal and Replicate backends (and the ComfyUI client's stream_to_file).

Local inputs go through the service's own upload; only small images travel inline as data URIs (large data URIs
time out or get refused). Results come only from http(s) URLs, following at most MAX_REDIRECTS redirects, and are
streamed into a `.part` file next to the destination under a size cap (a body past the cap is dropped at once),
checked to be a playable clip of the expected length, then renamed into place: the destination is only ever
written by an atomic rename of a complete file, and the `.part` file is removed on every failure.

Every exception leaving download_clip is an ImageAIError (asyncio cancellation aside): a dropped connection, a
timeout or a 5xx that outlasts the retries is TransientError; a result that a re-fetch would repeat (a URL that is
not an http(s) URL, a redirect loop, a body over the cap, a clip of the wrong length, a URL that is gone) is
BadOutputError.
"""
from __future__ import annotations

import asyncio
import base64
import errno
import functools
import logging
import mimetypes
import os
import ssl
import tempfile
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable, Optional

import httpx

from core.errors import (BadOutputError, ImageAIError, InvalidRequestError, RateLimitedError, TransientError,
                         UnavailableError)
from core.secrets import redact
from core.video.media import MediaInfo, check_playable_clip, probe
from core.video.verify import sniff

log = logging.getLogger(__name__)

#: images up to this size go inline as data URIs; larger ones and every video are uploaded
DATA_URI_MAX_BYTES = 256 * 1024
DOWNLOAD_ATTEMPTS = 3
RETRY_BACKOFF_S = 0.2  # doubled per attempt, at most 5 s
DOWNLOAD_TIMEOUT = httpx.Timeout(60.0, connect=15.0)
MAX_REDIRECTS = 5
DOWNLOAD_SCHEMES = ("http", "https")
MIB = 1024 * 1024
#: the size cap's budget: bits per second of a 1080p-sized clip (4x what services deliver), doubled, plus a margin
CAP_BITRATE_1080P = 80_000_000
CAP_MARGIN_BYTES = 32 * MIB
#: seconds assumed for a clip whose length is not known in advance (an extend adds its own part)
CAP_UNKNOWN_SECONDS = 20.0
_REDIRECTS = (301, 302, 303, 307, 308)

Uploader = Callable[[Path], Awaitable[str]]
Progress = Callable[[int, Optional[int]], None]


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
    """A download client for a backend to keep for its lifetime (connections and TLS context reused). Redirects are
    followed by download_clip itself, hop by hop, so each hop's scheme is checked."""
    return httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT, follow_redirects=False, verify=ssl_context())


def download_cap_bytes(width: Optional[int], height: Optional[int], seconds: Optional[float],
                       settings=None) -> int:
    """The most bytes a clip download may take: CAP_BITRATE_1080P scaled by the frame's area against 1080p, times
    the seconds, doubled, plus CAP_MARGIN_BYTES; at least `settings.download_cap_mb` MiB when that is set. Unknown
    size counts as 1080p, unknown length as CAP_UNKNOWN_SECONDS."""
    area = (width or 1920) * (height or 1080) / (1920 * 1080)
    secs = seconds if seconds and seconds > 0 else CAP_UNKNOWN_SECONDS
    derived = int(CAP_BITRATE_1080P / 8 * area * secs * 2) + CAP_MARGIN_BYTES
    floor = int(getattr(settings, "download_cap_mb", 0) or 0) * MIB
    return max(derived, floor)


def _mib(n: int) -> str:
    return f"{n / MIB:.0f} MiB" if n >= MIB else f"{n} bytes"


def check_download_url(service: str, url: object, field: str = "url") -> httpx.URL:
    """The URL a service handed out for a result, or BadOutputError naming the field: only http(s) URLs are
    fetched (a file: or data: URL from a service would read this machine's files or bypass the cap)."""
    if not isinstance(url, str):
        if url is None:
            shown = "missing"
        elif isinstance(url, (int, float)) and not isinstance(url, bool):
            shown = f"the number {url!r}"
        else:
            shown = f"a {type(url).__name__} ({repr(url)[:60]})"
        raise BadOutputError(f"{service}: {field} is {shown}, not a URL; only http and https URLs are allowed",
                             field=field)
    if not url.strip():
        raise BadOutputError(f"{service}: {field} is empty; an http or https URL was expected", field=field)
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in DOWNLOAD_SCHEMES:
        shown = f"a {scheme}: URL" if scheme and len(scheme) < 12 else f"{redact(url[:60])!r}"
        raise BadOutputError(f"{service}: {field} is {shown}; only http and https URLs are allowed", field=field)
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise BadOutputError(f"{service}: {field} is not a valid URL ({exc})", field=field) from None
    if not parsed.host:
        raise BadOutputError(f"{service}: {field} has no host ({redact(url[:60])!r})", field=field)
    return parsed


def _temp_in(folder: Path, name: str) -> Path:
    """A `.part` file beside the destination, tagged with this process so a later run can clean it up once this
    process is gone (core.video.leftovers)."""
    from core.video.leftovers import owner_tag
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.{owner_tag()}-", suffix=".part", dir=folder)
    os.close(fd)
    return Path(tmp)


def _over_cap(cap: int, what: str) -> BadOutputError:
    return BadOutputError(f"the {what} is larger than its {_mib(cap)} cap (set download_cap_mb to allow more)",
                          problems=[f"larger than the {_mib(cap)} download cap"])


async def _stream_to_temp(chunks: AsyncIterator[bytes], dest: Path, cap: int,
                          progress: Optional[Progress] = None, total: Optional[int] = None,
                          what: str = "download") -> Path:
    """Write `chunks` to a fresh `.part` file beside `dest`; its path once complete. Past `cap` bytes it stops
    reading at once (BadOutputError); on any failure the part file is gone."""
    if cap <= 0:
        raise ValueError("cap must be a positive number of bytes")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_in(dest.parent, dest.name)
    done = 0
    try:
        with open(tmp, "wb") as fh:
            async for chunk in chunks:
                done += len(chunk)
                if done > cap:
                    raise _over_cap(cap, what)
                fh.write(chunk)
                if progress:
                    progress(done, total)
        return tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


async def stream_to_file(chunks: AsyncIterator[bytes], dest: Path, cap: int, *,
                         progress: Optional[Progress] = None) -> int:
    """Write the byte chunks to `dest` through a `.part` file in its folder and rename it into place once complete;
    the bytes written. BadOutputError as soon as more than `cap` bytes arrive; on any failure `dest` is left as it
    was and no part file remains."""
    tmp = await _stream_to_temp(chunks, dest, cap, progress)
    try:
        size = tmp.stat().st_size
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return size


class _Retry(Exception):
    """A failure a fresh download may not repeat; carries the typed error to raise when the attempts run out."""

    def __init__(self, error: ImageAIError):
        super().__init__(str(error))
        self.error = error


def _status_error(service: str, resp: httpx.Response, url: httpx.URL) -> ImageAIError:
    code = resp.status_code
    where = f"{service}: the clip download from {url.host} answered HTTP {code}"
    if code in (408, 425, 429) or code >= 500:
        if code == 429:
            from providers.ltx.errors_map import retry_after_seconds
            after = retry_after_seconds(resp.headers)
            return RateLimitedError(f"{where} (rate limited)", retry_after=after)
        return TransientError(where)
    if code in (401, 403, 404, 410):
        # a result URL that refuses or lost the clip (an expired signed link): fetching it again changes nothing
        return BadOutputError(f"{where}: the clip is gone or not public (expired link?)")
    return InvalidRequestError(f"{where}", not_created=False)


async def _fetch(service: str, client: httpx.AsyncClient, url: httpx.URL, dest: Path, cap: int,
                 progress: Optional[Progress]) -> Path:
    """One download: follow redirects hop by hop (http(s) only, at most MAX_REDIRECTS), stream the body under the
    cap. The complete `.part` file, or an exception (part file removed)."""
    for hop in range(MAX_REDIRECTS + 1):
        async with client.stream("GET", url, follow_redirects=False) as resp:
            if 300 <= resp.status_code < 400:
                if resp.status_code not in _REDIRECTS or not resp.headers.get("location"):
                    raise BadOutputError(f"{service}: the clip URL answered HTTP {resp.status_code} without a "
                                         f"place to go")
                if hop == MAX_REDIRECTS:
                    raise BadOutputError(f"{service}: the clip URL redirects more than {MAX_REDIRECTS} times "
                                         f"(a redirect loop?)")
                try:
                    url = url.join(resp.headers["location"])
                except (httpx.InvalidURL, ValueError) as exc:
                    raise BadOutputError(f"{service}: the clip URL redirects to an invalid URL ({exc})") from None
                if url.scheme not in DOWNLOAD_SCHEMES:
                    raise BadOutputError(f"{service}: the clip URL redirects to a {url.scheme}: URL; only http "
                                         f"and https are allowed")
                continue
            if resp.status_code >= 400:
                raise _status_error(service, resp, url)
            total = None
            length = resp.headers.get("content-length")
            if length and length.isdigit():
                total = int(length)
                if total > cap:  # refused before a byte of the body is read
                    raise _over_cap(cap, f"{service} clip ({_mib(total)})")
            return await _stream_to_temp(resp.aiter_bytes(1 << 16), dest, cap, progress, total,
                                         what=f"{service} clip")
    raise AssertionError("unreachable")  # the loop returns or raises


async def download_clip(service: str, url: object, dest: Path, *, expected_duration: Optional[float],
                        min_duration: Optional[float] = None, client: Optional[httpx.AsyncClient] = None,
                        progress: Optional[Progress] = None, cap: Optional[int] = None,
                        field: str = "url") -> MediaInfo:
    """Download the result `url` (the value of the service's `field`) to `dest` and check it is a playable clip of
    the expected length; the clip's facts.

    `cap`: the most bytes accepted (default: download_cap_bytes of a 1080p clip of the expected length). Retries
    dropped connections, timeouts, 5xx and truncated files (a download is free to repeat), then TransientError;
    BadOutputError at once for what a re-fetch repeats. Only ImageAIError leaves this function."""
    dest = Path(dest)
    parsed = check_download_url(service, url, field)
    if cap is None:
        seconds = expected_duration or ((min_duration or 0.0) + CAP_UNKNOWN_SECONDS)
        cap = download_cap_bytes(None, None, seconds)
    own = client is None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        client = client or http_client()
        try:
            return await _download(service, client, parsed, dest, expected_duration, min_duration, progress, cap)
        finally:
            if own:
                await client.aclose()
    except ImageAIError:
        raise
    except OSError as exc:
        raise _disk_error(dest, exc) from None
    except Exception as exc:  # a failure nobody foresaw must still reach the queue as a typed error
        log.exception("%s download of %s failed", service, dest.name)
        raise TransientError(f"{service}: the clip could not be downloaded ({type(exc).__name__}: {exc})",
                             not_created=False) from None


def _disk_error(dest: Path, exc: OSError) -> ImageAIError:
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return UnavailableError(f"no space left for the clip in {dest.parent} ({exc.strerror})")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return UnavailableError(f"cannot write the clip into {dest.parent} ({exc.strerror})")
    return TransientError(f"cannot write the clip {dest.name} ({exc.strerror or exc})", not_created=False)


def _check_length(service: str, info: MediaInfo, expected: Optional[float], minimum: Optional[float]) -> None:
    if expected and abs(info.duration - expected) > max(0.6, expected * 0.15):
        raise BadOutputError(f"the {service} clip is {info.duration:.2f} s, expected about {expected:.2f} s")
    if minimum and info.duration < minimum - 0.6:
        raise BadOutputError(f"the {service} clip is {info.duration:.2f} s, expected at least {minimum:.2f} s")


async def _download(service: str, client: httpx.AsyncClient, url: httpx.URL, dest: Path,
                    expected_duration: Optional[float], min_duration: Optional[float],
                    progress: Optional[Progress], cap: int) -> MediaInfo:
    last: Optional[ImageAIError] = None
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        try:
            return await _attempt(service, client, url, dest, expected_duration, min_duration, progress, cap)
        except _Retry as retry:
            last = retry.error
        log.info("%s download attempt %d failed: %s", service, attempt, last)
        if attempt < DOWNLOAD_ATTEMPTS:
            wait = last.retry_after if isinstance(last, RateLimitedError) and last.retry_after else RETRY_BACKOFF_S * 2 ** attempt
            await asyncio.sleep(min(wait, 5))
    assert last is not None
    last.not_created = False
    raise last


async def _attempt(service: str, client: httpx.AsyncClient, url: httpx.URL, dest: Path,
                   expected_duration: Optional[float], min_duration: Optional[float],
                   progress: Optional[Progress], cap: int) -> MediaInfo:
    """One download and check; _Retry for what another attempt may cure, a final ImageAIError otherwise."""
    tmp: Optional[Path] = None
    try:
        try:
            tmp = await _fetch(service, client, url, dest, cap, progress)
        except (TransientError, RateLimitedError) as exc:
            raise _Retry(exc) from None
        except httpx.TimeoutException as exc:
            raise _Retry(TransientError(f"{service}: the clip download timed out ({type(exc).__name__})",
                                        not_created=False)) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise BadOutputError(f"{service}: the clip URL cannot be fetched ({exc})") from None
        except httpx.TransportError as exc:  # connect errors, a connection cut mid-body
            raise _Retry(TransientError(f"{service}: the clip could not be downloaded ({type(exc).__name__}: "
                                        f"{exc})", not_created=False)) from None
        except OSError as exc:
            err = _disk_error(dest, exc)
            if not isinstance(err, TransientError):
                raise err from None
            raise _Retry(err) from None
        with open(tmp, "rb") as fh:
            what = sniff(fh.read(64))
        if what:  # an error page or a still image instead of the clip: the same bytes come again
            raise BadOutputError(f"{service}: the downloaded clip is not a video: it looks like {what}")
        try:
            info = await asyncio.to_thread(check_playable_clip, tmp, None)
        except InvalidRequestError as exc:  # most likely cut short on the way: fetch again
            raise _Retry(TransientError(f"{service}: the downloaded clip is not playable ({exc})",
                                        not_created=False)) from None
        _check_length(service, info, expected_duration, min_duration)
        os.replace(tmp, dest)
        return info.model_copy(update={"path": dest})
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
