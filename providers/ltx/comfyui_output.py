"""What a ComfyUI server returned, turned into the plan's H.264 MP4 with FFmpeg and Pillow alone (no numpy).

- pick_output: the video (or animated image) among a prompt's outputs, whichever node saved it;
- the download's size cap: a video's from transfer.download_cap_bytes; an animated image's is never more than its
  raw RGB frames (lossless WebP/APNG are large but never larger than that);
- animated WebP/APNG/GIF: Pillow's writer (the one in ComfyUI's SaveAnimatedWEBP/PNG) merges identical consecutive
  frames, summing their durations, and a batch whose frames are all identical comes back as one still frame with
  no duration at all. The frames are expanded again from their durations, and a still that stands for a whole
  batch is repeated to the batch's length, so a 49-frame clip stays 49 frames;
- a file that is too big for what was asked (a GIF bomb: a small file that decodes to gigapixels) is refused from
  its header, before a frame is decoded;
- WebM/MOV/MKV are transcoded; an extension is joined to its source clip by FFmpeg's concat filter.
Every failure is a typed error: BadOutputError for junk (it comes back the same on a re-fetch), UnavailableError
when FFmpeg cannot run."""
from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

from core.errors import BadOutputError, UnavailableError
from core.video.media import ffmpeg_exe
from core.video.verify import sniff

VIDEO_EXT = (".mp4", ".webm", ".mov", ".mkv")
ANIMATED_EXT = (".webp", ".gif", ".png", ".apng")
#: an output may be this many times the asked area (a workflow that upscales) before it counts as a bomb
AREA_FACTOR = 16
#: ... and at least this many pixels per frame are always allowed (a 4K frame)
MIN_PIXEL_LIMIT = 3840 * 2160
#: frames beyond the asked count that an animated output may have (interpolating workflows add some)
FRAME_FACTOR = 4
FFMPEG_TIMEOUT_S = 900


def pick_output(outputs: dict) -> Optional[dict]:
    """The first video among the outputs, else the first animated image (any node, any of images/gifs/videos)."""
    items = []
    for node_id in sorted(outputs, key=lambda k: (not str(k).isdigit(), int(k) if str(k).isdigit() else 0, k)):
        out = outputs[node_id]
        if not isinstance(out, dict):
            continue
        animated = any(out.get("animated") or [])
        for key in ("videos", "gifs", "images"):
            for item in out.get(key) or []:
                if isinstance(item, dict) and isinstance(item.get("filename"), str) and item["filename"]:
                    items.append((item, animated or key == "gifs"))
    for item, _ in items:
        if suffix_of(item["filename"]) in VIDEO_EXT:
            return item
    for item, animated in items:
        ext = suffix_of(item["filename"])
        if ext in (".webp", ".gif") or (ext in (".png", ".apng") and animated):
            return item
    return None


def suffix_of(filename: str) -> str:
    """The lower-case extension of a server-side file name, letters and digits only (it names a local temp file)."""
    ext = Path(filename.replace("\\", "/")).suffix.lower()
    return ext if ext[1:].isalnum() else ""


def animated_cap_bytes(width: int, height: int, frames: int) -> int:
    """No encoding of `frames` RGB frames is larger than the raw frames (plus headers)."""
    return width * height * 3 * max(frames, 1) * FRAME_FACTOR + 4 * 1024 * 1024


def check_video_file(path: Path) -> None:
    """BadOutputError when a file that should be a video is certainly something else (a PNG named .mp4)."""
    with open(path, "rb") as fh:
        head = fh.read(64)
    if not head:
        raise BadOutputError("ComfyUI returned an empty file instead of the clip", path=path)
    what = sniff(head)
    if what:
        raise BadOutputError(f"ComfyUI returned {what} named {path.suffix or 'without an extension'}, not a video",
                             path=path)


def frame_counts(durations: list[Optional[float]], fps: float, expected_frames: int) -> list[int]:
    """How many frames each stored frame stands for. Durations that add up to about the asked length are spread
    over exactly the asked frame count (the writer rounds each to whole milliseconds, or to 10 ms in a GIF);
    otherwise each counts for its own length at `fps`. A lone frame without a duration stands for the batch."""
    if len(durations) == 1 and not durations[0]:
        return [max(expected_frames, 1)]
    base = 1000.0 / fps
    ms = [float(d) if d and d > 0 else base for d in durations]
    total = sum(ms)
    if expected_frames > 0 and abs(total - expected_frames * base) <= max(2, 0.05 * expected_frames) * base \
            and len(ms) <= expected_frames:
        scale = expected_frames / total
    else:
        scale = 1.0 / base
    counts, done, cum = [], 0, 0.0
    for d in ms:
        cum += d
        upto = max(done + 1, int(round(cum * scale)))  # every stored frame is shown at least once
        counts.append(upto - done)
        done = upto
    return counts


def animated_to_mp4(src: Path, dest: Path, *, fps: float, expected_frames: int, width: Optional[int],
                    height: Optional[int]) -> int:
    """Encode an animated WebP/APNG/GIF (or a still that stands for a batch) as H.264 at `fps`; the frames
    written. The frame size and count are checked from the header first."""
    from PIL import Image, UnidentifiedImageError

    try:
        im = Image.open(src)
    except Image.DecompressionBombError as exc:
        raise BadOutputError(f"ComfyUI's animated output decodes to too many pixels: refused ({exc})",
                             path=src) from None
    except (UnidentifiedImageError, OSError) as exc:
        raise BadOutputError(f"ComfyUI's animated output is not a readable image ({exc})", path=src) from None
    with im:
        w, h = im.size
        limit = max(AREA_FACTOR * (width or 0) * (height or 0), MIN_PIXEL_LIMIT)
        if w * h > limit:
            raise BadOutputError(f"ComfyUI's animated output is {w}x{h}, far larger than the {width}x{height} "
                                 f"asked for: refused without decoding it (a decompression bomb?)", path=src)
        most = FRAME_FACTOR * max(expected_frames, 1) + 32
        stored = getattr(im, "n_frames", 1)
        if stored > most:
            raise BadOutputError(f"ComfyUI's animated output has {stored} frames where {expected_frames} were "
                                 f"asked for: refused", path=src)
        durations = []
        try:
            for i in range(stored):
                im.seek(i)
                im.load()  # WebP states a frame's duration only once it is loaded
                durations.append(im.info.get("duration"))
        except (OSError, EOFError, ValueError) as exc:
            raise BadOutputError(f"ComfyUI's animated output is cut or corrupt at frame {len(durations) + 1} "
                                 f"({exc})", path=src) from None
        counts = frame_counts(durations, fps, expected_frames)
        if sum(counts) > most:
            raise BadOutputError(f"ComfyUI's animated output lasts {sum(counts)} frames where {expected_frames} "
                                 f"were asked for: refused", path=src)
        ew, eh = w // 2 * 2, h // 2 * 2  # H.264 4:2:0 needs even sides
        if ew < 2 or eh < 2:
            raise BadOutputError(f"ComfyUI's animated output is {w}x{h}: too small for a video", path=src)
        cmd = [ffmpeg_exe(), "-y", "-v", "error", "-nostdin", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s",
               f"{ew}x{eh}", "-r", f"{fps:g}", "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset",
               "veryfast", "-crf", "18", "-movflags", "+faststart"]

        def frames():
            for i, count in enumerate(counts):
                im.seek(i)
                data = im.convert("RGB").crop((0, 0, ew, eh)).tobytes()
                for _ in range(count):
                    yield data
        _encode(cmd, dest, frames())
    return sum(counts)


def video_to_mp4(src: Path, dest: Path) -> None:
    """A WebM/MOV/MKV result as H.264 (AAC audio kept when there is a sound track)."""
    check_video_file(src)
    _run([ffmpeg_exe(), "-y", "-v", "error", "-nostdin", "-i", str(src), "-map", "0:v:0", "-map", "0:a?",
          "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast", "-crf", "18", "-vf",
          "crop=trunc(iw/2)*2:trunc(ih/2)*2", "-c:a", "aac", "-movflags", "+faststart"], dest)


def join_extension(new: Path, source: Path, dest: Path, *, overlap: int, backward: bool, fps: float) -> None:
    """The source clip then the new frames after the overlap (forward), or the new frames up to the overlap then
    the source (backward); the source is scaled to the new clip's size and both are retimed to `fps` frame by
    frame, so no frame is dropped or doubled."""
    from core.video.media import count_frames, probe

    check_video_file(new)
    info = probe(new)
    n_new = count_frames(new)
    w, h = info.width // 2 * 2, info.height // 2 * 2
    retime = f"setpts=N/({fps:g}*TB),scale={w}:{h},setsar=1,format=yuv420p"
    if backward:
        graph = (f"[1:v]trim=end_frame={max(n_new - overlap, 1)},{retime}[a];[0:v]{retime}[b];"
                 f"[a][b]concat=n=2:v=1:a=0[v]")
    else:
        graph = f"[0:v]{retime}[a];[1:v]trim=start_frame={overlap},{retime}[b];[a][b]concat=n=2:v=1:a=0[v]"
    _run([ffmpeg_exe(), "-y", "-v", "error", "-nostdin", "-i", str(source), "-i", str(new), "-filter_complex",
          graph, "-map", "[v]", "-r", f"{fps:g}", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast",
          "-crf", "18", "-movflags", "+faststart"], dest)


def temp_beside(dest: Path, suffix: str = ".mp4") -> Path:
    """A fresh temp file beside `dest`, named as a partial download of this process, so that a later run removes
    it once this process is gone (core.video.leftovers)."""
    from core.video.leftovers import owner_tag

    fd, tmp = tempfile.mkstemp(suffix=f".part{suffix}", prefix=f".{dest.stem[:40]}.{owner_tag()}-", dir=dest.parent)
    os.close(fd)
    return Path(tmp)


def _run(cmd: list[str], dest: Path) -> None:
    """Run an FFmpeg command whose last argument is added here: a temp file beside `dest`, renamed into place."""
    from core.child_process import child_kwargs

    tmp = temp_beside(dest)
    try:
        try:
            proc = subprocess.run(cmd + [str(tmp)], capture_output=True, text=True, errors="replace",
                                  timeout=FFMPEG_TIMEOUT_S, **child_kwargs())
        except OSError as exc:
            raise UnavailableError(f"cannot run FFmpeg ({exc.strerror}); set IMAGEAI_FFMPEG") from None
        if proc.returncode != 0:
            raise BadOutputError(f"FFmpeg could not convert ComfyUI's output: {proc.stderr.strip()[-300:]}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _encode(cmd: list[str], dest: Path, frames) -> None:
    """Feed raw frames to FFmpeg's stdin one by one (never all in memory), into a temp file renamed into place."""
    from core.child_process import child_kwargs

    tmp = temp_beside(dest)
    try:
        try:
            proc = subprocess.Popen(cmd + [str(tmp)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, **child_kwargs())
        except OSError as exc:
            raise UnavailableError(f"cannot run FFmpeg ({exc.strerror}); set IMAGEAI_FFMPEG") from None
        try:
            try:
                for data in frames:
                    proc.stdin.write(data)
            except BrokenPipeError:
                pass  # FFmpeg stopped early: its exit status and message say why
            except (OSError, EOFError, ValueError) as exc:
                raise BadOutputError(f"ComfyUI's animated output is cut or corrupt ({exc})") from None
            finally:
                try:
                    proc.stdin.close()
                except BrokenPipeError:
                    pass
            err = proc.stderr.read().decode(errors="replace")
            rc = proc.wait(FFMPEG_TIMEOUT_S)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stderr.close()
        if rc != 0:
            raise BadOutputError(f"FFmpeg could not encode ComfyUI's frames: {err.strip()[-300:]}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
