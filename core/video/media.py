"""FFmpeg binary resolution and probing of media files (no ffprobe: imageio-ffmpeg ships ffmpeg alone, so the
`ffmpeg -i` banner is parsed; its format is pinned by tests)."""
from __future__ import annotations

import functools
import os
import re
import subprocess
from pathlib import Path
from typing import Optional

from pydantic import BaseModel

from core.errors import InvalidRequestError, UnavailableError


def ffmpeg_exe(configured: Optional[str] = None) -> str:
    """IMAGEAI_FFMPEG > the configured path > the binary imageio-ffmpeg ships."""
    path = os.environ.get("IMAGEAI_FFMPEG") or configured
    if path:
        if not Path(path).is_file():
            raise UnavailableError(f"FFmpeg not found at {path} (set IMAGEAI_FFMPEG or the FFmpeg path setting)")
        return path
    return _bundled_ffmpeg()


@functools.lru_cache(maxsize=1)
def _bundled_ffmpeg() -> str:
    """The binary inside the imageio-ffmpeg wheel, found without running it: imageio's own lookup starts
    `ffmpeg -version` to validate it, a cost every CLI run would pay (a binary that cannot run fails the first
    real FFmpeg call with a clear error instead)."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:
        raise UnavailableError("FFmpeg is missing: pip install imageio-ffmpeg, or set IMAGEAI_FFMPEG") from exc
    if not os.environ.get("IMAGEIO_FFMPEG_EXE"):  # imageio's own override: its lookup honours it
        try:
            from imageio_ffmpeg._definitions import FNAME_PER_PLATFORM, get_platform
            exe = Path(imageio_ffmpeg.__file__).parent / "binaries" / FNAME_PER_PLATFORM.get(get_platform(), "-")
            if exe.is_file() and os.access(exe, os.X_OK):
                return str(exe)
        except (ImportError, AttributeError):  # another layout of the package: its own lookup
            pass
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:
        raise UnavailableError(f"FFmpeg is missing ({exc}); set IMAGEAI_FFMPEG") from exc


class MediaInfo(BaseModel):
    path: Path
    duration: float
    width: int = 0
    height: int = 0
    fps: float = 0.0
    vcodec: Optional[str] = None
    pix_fmt: Optional[str] = None
    bitrate_kbps: Optional[int] = None
    has_video: bool = False
    has_audio: bool = False
    acodec: Optional[str] = None
    sample_rate: Optional[int] = None
    channels_layout: Optional[str] = None
    container: Optional[str] = None  # FFmpeg's first demuxer name (png_pipe for a PNG: a still, not a clip)


_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_BITRATE = re.compile(r"bitrate:\s*(\d+)\s*kb/s")
_VIDEO = re.compile(r"Stream #\S+.*?: Video: (\w+)(.*)")
_AUDIO = re.compile(r"Stream #\S+.*?: Audio: (\w+)(.*)")
_SIZE = re.compile(r"\b(\d{2,5})x(\d{2,5})\b")
_FPS = re.compile(r"([\d.]+)(k?) fps")
_TBR = re.compile(r"([\d.]+)(k?) tbr")
_RATE = re.compile(r"(\d+) Hz")
_CONTAINER = re.compile(r"Input #0, ([\w,]+), from")


def parse_banner(text: str, path: Path) -> MediaInfo:
    m = _DURATION.search(text)
    duration = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3)) if m else 0.0
    info = MediaInfo(path=path, duration=duration)
    c = _CONTAINER.search(text)
    if c:
        info.container = c.group(1).split(",")[0]
    b = _BITRATE.search(text)
    if b:
        info.bitrate_kbps = int(b.group(1))
    v = _VIDEO.search(text)
    if v:
        info.has_video = True
        info.vcodec = v.group(1)
        rest = v.group(2)
        size = _SIZE.search(rest)
        if size:
            info.width, info.height = int(size.group(1)), int(size.group(2))
        pix = re.match(r"\s*(?:\([^)]*\)\s*)*,\s*(\w+)", rest)
        if pix:
            info.pix_fmt = pix.group(1)
        rate = _FPS.search(rest) or _TBR.search(rest)
        if rate:
            info.fps = float(rate.group(1)) * (1000 if rate.group(2) else 1)
    a = _AUDIO.search(text)
    if a:
        info.has_audio = True
        info.acodec = a.group(1)
        r = _RATE.search(a.group(2))
        if r:
            info.sample_rate = int(r.group(1))
        layout = re.search(r"Hz, ([\w.()]+)", a.group(2))
        if layout:
            info.channels_layout = layout.group(1)
    return info


def probe(path: Path, ffmpeg: Optional[str] = None) -> MediaInfo:
    """Facts about a media file. InvalidRequestError when it is not a readable media file."""
    path = Path(path)
    if not path.is_file():
        raise InvalidRequestError(f"{path}: no such file", field="path")
    exe = ffmpeg or ffmpeg_exe()
    try:
        proc = subprocess.run([exe, "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True, text=True,
                              errors="replace", timeout=60)
    except OSError as exc:
        raise UnavailableError(f"cannot run FFmpeg at {exe} ({exc.strerror}); set IMAGEAI_FFMPEG") from None
    text = proc.stderr
    if "Invalid data found" in text or ("Stream #" not in text):
        raise InvalidRequestError(f"{path.name}: not a media file FFmpeg can read", field="path")
    return parse_banner(text, path)


def count_frames(path: Path, ffmpeg: Optional[str] = None) -> int:
    """Exact number of video frames (decodes the stream; for checks and tests, not for hot paths)."""
    from core.child_process import child_kwargs  # a whole decode: it must not outlive a killed app
    proc = subprocess.run([ffmpeg or ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:v:0",
                           "-f", "null", "-"], capture_output=True, text=True, errors="replace", timeout=600,
                          **child_kwargs())
    found = re.findall(r"frame=\s*(\d+)", proc.stderr)
    if not found:
        raise InvalidRequestError(f"{Path(path).name}: no video frames could be decoded", field="path")
    return int(found[-1])


def is_image(path: Path) -> bool:
    """True when Pillow can identify the file as an image (content, not extension)."""
    import warnings
    try:
        from PIL import Image
        with warnings.catch_warnings():
            # a picture past Pillow's pixel limit is a decompression bomb to us, not a warning: refuse it
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                im.verify()
        return True
    except Exception:  # any decoder error (or a bomb) means "not an image we can use"
        return False


def check_playable_clip(path: Path, expected_duration: Optional[float] = None, tolerance: float = 0.6,
                        ffmpeg: Optional[str] = None) -> MediaInfo:
    """Raise InvalidRequestError unless `path` is a video of about the expected length (used before a take is
    marked done, so a truncated download is never accepted)."""
    info = probe(path, ffmpeg)
    if not info.has_video or info.width == 0:
        raise InvalidRequestError(f"{Path(path).name}: the file holds no video stream", field="clip")
    if expected_duration and abs(info.duration - expected_duration) > max(tolerance, expected_duration * 0.15):
        raise InvalidRequestError(f"{Path(path).name}: clip is {info.duration:.2f} s, expected about "
                                  f"{expected_duration:.2f} s", field="clip")
    return info


#: what a video input may be (the words every refusal names)
VIDEO_KINDS = ("MP4", "MOV", "WebM", "MKV", "AVI")


def video_input(path: Path, ffmpeg: Optional[str] = None) -> tuple[Optional[MediaInfo], Optional[str]]:
    """(its MediaInfo, None) when `path` is a video a render, an extension or an import can use; (None, why not)
    otherwise. FFmpeg probes a PNG (or a JPEG named .mp4) as a one-frame video, so the first bytes, the demuxer
    and the codec are checked too: a still sent as a video is paid for and comes back as nothing useful."""
    from core.video.verify import _IMAGE_CODECS, _IMAGE_FORMATS, sniff  # verify imports this module
    path = Path(path)
    if not path.is_file():
        return None, f"{path}: no such file"
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError as exc:
        return None, f"{path.name} cannot be read ({exc.strerror})"
    if not head:
        return None, f"{path.name} is not a video this app can use: the file is empty"
    what = sniff(head)
    if what is None:
        try:
            info = probe(path, ffmpeg)
        except InvalidRequestError:
            return None, f"{path.name} is not a video this app can use: FFmpeg cannot read it"
        what = _IMAGE_FORMATS.get(info.container or "")
        if what is None and info.vcodec in _IMAGE_CODECS and info.duration <= 0.05:
            what = f"a {'JPEG' if info.vcodec == 'mjpeg' else info.vcodec.upper()} image"
        if what is None:
            if not info.has_video:
                why = "it holds audio only" if info.has_audio else "it holds no video stream"
            elif info.width <= 0 or info.duration <= 0:
                why = "FFmpeg finds no picture size or length in it"
            else:
                return info, None
            return None, f"{path.name} is not a video this app can use: {why}"
    return None, f"{path.name} is not a video this app can use: it looks like {what}"


def video_input_problem(path: Path, ffmpeg: Optional[str] = None) -> Optional[str]:
    """None when `path` is a video this app can use, else why not (see video_input)."""
    return video_input(path, ffmpeg)[1]
