"""The full decode check a clip passes before it counts as done.

A probe reads the container's header only: a faststart MP4 cut to a third still says 6 s, and a PNG named .mp4
still "has a video stream". So the clip is decoded in full by the real FFmpeg to the null muxer, in one run: its
banner gives the container's claims (duration, size, rate, audio; parsed by core.video.media), its verbose
end-of-run statistics give the frames each decoder really produced and its decode errors, and the error-level
lines say what broke.

Speed: one process (no separate probe), audio neither demuxed nor decoded unless asked for (`-an`), and the H.264/
HEVC deblocking filter skipped (`-skip_loop_filter all`): deblocking only smooths pixels after a frame has been
reconstructed, so it can neither make a frame decode nor fail, and the frame count stays exact; bitstream errors
are found while parsing and entropy decoding, which still run for every frame. bench/decode_check.py measures it.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Optional

from pydantic import BaseModel, Field

from core.errors import BadOutputError, UnavailableError
from core.video.media import ffmpeg_exe, parse_banner

#: longest a decode check may run (a 60 s 4K clip decodes in well under a minute on two cores)
DECODE_TIMEOUT_S = 600
#: services round a clip to their own frame grid (LTX: 8k+1 frames), so an asked length is met within this much
EXPECTED_SLACK_S = 0.6
EXPECTED_SLACK_RATIO = 0.15


class ClipReport(BaseModel):
    path: Path
    frames: int                       # video frames that decoded
    fps: float
    duration: float                   # seconds that decoded: frames / fps
    claimed_duration: float = 0.0     # what the container's header says
    width: int = 0
    height: int = 0
    vcodec: Optional[str] = None
    has_audio: bool = False
    audio_duration: Optional[float] = None  # seconds of audio that decoded (only when audio was asked for)
    decode_errors: int = 0
    problems: list[str] = Field(default_factory=list)


# magic bytes of what a service or a proxy hands out instead of a clip
_NOT_VIDEO = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
)
_IMAGE_FORMATS = {"png_pipe": "a PNG image", "jpeg_pipe": "a JPEG image", "gif": "a GIF image",
                  "webp_pipe": "a WebP image", "bmp_pipe": "a BMP image", "tiff_pipe": "a TIFF image",
                  "image2": "a still image", "apng": "an animated PNG"}
_IMAGE_CODECS = {"png", "mjpeg", "bmp", "gif", "webp", "tiff", "apng"}


def sniff(head: bytes) -> Optional[str]:
    """What the first bytes of a file show it to be when that is certainly not a video, else None."""
    for magic, what in _NOT_VIDEO:
        if head.startswith(magic):
            return what
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    text = head.lstrip()[:64].lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "an HTML page"
    if text.startswith(b"<?xml") or text.startswith(b"<error"):
        return "an XML document"
    if text[:1] in (b"{", b"[") and b"\x00" not in head:
        return "JSON text"
    return None


_STREAM_STATS = re.compile(r"Input stream #\d+:\d+ \((video|audio)\): (.*)")
_ERROR_LINE = re.compile(r"\[(?:error|fatal|panic)\]\s*(.*)")


def _stream_stats(text: str) -> dict[str, dict[str, int]]:
    """{'video': {'frames': n, 'errors': n}, 'audio': {..., 'samples': n}} from the verbose end-of-run lines.
    The wording differs between FFmpeg versions ("0 decode errors" since 7; samples in brackets), so each number is
    looked up on its own."""
    found: dict[str, dict[str, int]] = {}
    for kind, rest in _STREAM_STATS.findall(text):
        if kind in found:
            continue
        stats = {}
        for key, pattern in (("packets", r"(\d+) packets read"), ("frames", r"(\d+) frames decoded"),
                             ("errors", r"(\d+) decode errors?"), ("samples", r"(\d+) samples")):
            m = re.search(pattern, rest)
            if m:
                stats[key] = int(m.group(1))
        found[kind] = stats
    return found


def _last_frame_count(text: str) -> Optional[int]:
    """The final `frame=` of the stats line: the fallback where the verbose per-stream lines are missing."""
    found = re.findall(r"frame=\s*(\d+)", text)
    return int(found[-1]) if found else None


def _seconds(value: float) -> str:
    return f"{value:.1f} s"


def _decode(path: Path, exe: str, with_audio: bool) -> tuple[int, str]:
    from core.child_process import child_kwargs  # a whole decode: it must not outlive a killed app
    cmd = [exe, "-hide_banner", "-nostdin", "-loglevel", "level+verbose", "-skip_loop_filter:v", "all"]
    if not with_audio:
        cmd += ["-an"]
    cmd += ["-sn", "-dn", "-i", str(path), "-map", "0:v:0?"]
    if with_audio:
        cmd += ["-map", "0:a:0?"]
    cmd += ["-f", "null", "-"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=DECODE_TIMEOUT_S,
                              **child_kwargs())
    except OSError as exc:
        raise UnavailableError(f"cannot run FFmpeg at {exe} ({exc.strerror}); set IMAGEAI_FFMPEG") from None
    except subprocess.TimeoutExpired:
        raise BadOutputError(f"{path.name}: FFmpeg did not finish decoding it in {DECODE_TIMEOUT_S} s",
                             path=path) from None
    return proc.returncode, proc.stderr


def _error_lines(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        m = _ERROR_LINE.search(line)
        if m and m.group(1).strip():
            lines.append(m.group(1).strip().rstrip("."))
    return lines


def _fail(path: Path, problems: list[str]) -> BadOutputError:
    return BadOutputError(f"{path.name}: " + "; ".join(problems), path=path, problems=problems)


def verify_clip(path: Path, *, expected_duration: float | None = None, min_duration: float | None = None,
                width: int | None = None, height: int | None = None, need_audio: bool = False,
                tolerance_frames: int = 2, ffmpeg: Optional[str] = None) -> ClipReport:
    """Decode every video frame of `path` (and its audio when `need_audio`) and return what decoded.

    Raises BadOutputError, whose message says what is wrong, when: the file is not a video; fewer frames decode
    than the container claims (beyond `tolerance_frames`); FFmpeg reports decode errors; the decoded length is not
    `expected_duration` (within the services' frame-grid slack) or under `min_duration`; the size is not
    `width` x `height`; there is no audio track, or it does not decode, when `need_audio`.
    UnavailableError when FFmpeg cannot run."""
    path = Path(path)
    if not path.is_file():
        raise BadOutputError(f"{path.name}: no such file", path=path)
    with open(path, "rb") as fh:
        head = fh.read(64)
    if not head:
        raise _fail(path, ["the file is empty"])
    what = sniff(head)
    if what:
        raise _fail(path, [f"not a video: looks like {what}"])

    exe = ffmpeg or ffmpeg_exe()
    rc, text = _decode(path, exe, need_audio)
    banner_end = text.find("Output #0")
    info = parse_banner(text[:banner_end] if banner_end >= 0 else text, path)
    fmt = re.search(r"Input #0, ([\w,]+), from", text)
    if fmt and fmt.group(1).split(",")[0] in _IMAGE_FORMATS:
        raise _fail(path, [f"not a video: looks like {_IMAGE_FORMATS[fmt.group(1).split(',')[0]]}"])
    errors = _error_lines(text)
    if not info.has_video:
        why = "it holds audio only" if info.has_audio else (errors[0] if errors else "no video stream")
        raise _fail(path, [f"not a video FFmpeg can read ({why})"])
    if info.vcodec in _IMAGE_CODECS and info.duration <= 0.05:
        raise _fail(path, [f"not a video: looks like a {info.vcodec.upper()} image"])

    stats = _stream_stats(text)
    video = stats.get("video", {})
    frames = video.get("frames")
    if frames is None:
        frames = _last_frame_count(text) or 0
    fps = info.fps or 0.0
    decoded = frames / fps if fps else 0.0
    report = ClipReport(path=path, frames=frames, fps=fps, duration=round(decoded, 3),
                        claimed_duration=info.duration, width=info.width, height=info.height, vcodec=info.vcodec,
                        has_audio=info.has_audio, decode_errors=video.get("errors", 0))
    problems = report.problems

    claimed = round(info.duration * fps) if fps else 0
    if frames == 0:
        problems.append("no video frame decodes" + (f" ({errors[-1]})" if errors else ""))
    elif claimed and frames < claimed - tolerance_frames and (
            errors or report.decode_errors or (claimed - frames) / fps > EXPECTED_SLACK_S):
        # the container's length is its longest stream's: sound a little longer than the picture, with nothing
        # reported broken, is how services mux; a cut file always leaves errors behind
        problems.append(f"only {frames} of {claimed} frames decode ({_seconds(decoded)} of a "
                        f"{_seconds(info.duration)} clip)")
    if frames and not problems and (report.decode_errors or errors):  # after a cut, the errors are its echo
        count = report.decode_errors or len(errors)
        detail = f" ({errors[0]})" if errors else ""
        problems.append(f"FFmpeg reported {count} decode error{'s' if count != 1 else ''}{detail}")
    if frames and expected_duration:
        slack = max(EXPECTED_SLACK_S, expected_duration * EXPECTED_SLACK_RATIO, tolerance_frames / (fps or 1))
        if abs(decoded - expected_duration) > slack:
            problems.append(f"{_seconds(decoded)} long; {_seconds(expected_duration)} expected")
    if frames and min_duration and decoded < min_duration - max(EXPECTED_SLACK_S, tolerance_frames / (fps or 1)):
        problems.append(f"{_seconds(decoded)} long; at least {_seconds(min_duration)} expected")
    if width and height and (info.width, info.height) != (width, height):
        problems.append(f"{info.width}x{info.height}; {width}x{height} expected")
    elif width and not height and info.width != width:
        problems.append(f"{info.width} pixels wide; {width} expected")
    elif height and not width and info.height != height:
        problems.append(f"{info.height} pixels high; {height} expected")
    if need_audio:
        audio = stats.get("audio")
        if not info.has_audio:
            problems.append("no audio track; audio was asked for")
        elif audio is not None:
            rate = info.sample_rate or 0
            seconds = audio.get("samples", 0) / rate if rate else None
            report.audio_duration = round(seconds, 3) if seconds is not None else None
            if audio.get("frames", 0) == 0:
                problems.append("the audio track does not decode")
            elif seconds is not None and frames and seconds < decoded - max(EXPECTED_SLACK_S, decoded * 0.1):
                problems.append(f"the audio decodes for {_seconds(seconds)} of the {_seconds(decoded)} clip")
    if rc != 0 and not problems:
        problems.append(f"FFmpeg failed to decode it (exit code {rc}" + (f": {errors[-1]})" if errors else ")"))
    if problems:
        raise _fail(path, problems)
    return report
