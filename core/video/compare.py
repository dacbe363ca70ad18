"""Side-by-side comparison of two clips (e.g. the same scene from two models) plus a table of their facts.

When a clip is a take of a project (it lies in a project's folder and a take points at it), the row also gives
the take's provider/model, render time and cost.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Optional, Sequence

from pydantic import BaseModel

from core.errors import InvalidRequestError
from core.video.ffmpeg_command import FFmpegCommand, head
from core.video.filters import chain, literal, num, path_value
from core.video.leftovers import partial_path
from core.video.media import MediaInfo, probe

MAX_HEIGHT = 1080


class ClipRow(BaseModel):
    label: str
    path: str
    width: int
    height: int
    fps: float
    duration: float
    bitrate_kbps: Optional[int] = None
    video_codec: Optional[str] = None
    provider: Optional[str] = None
    model: Optional[str] = None
    render_seconds: Optional[float] = None
    cost: Optional[float] = None


def take_of(path: Path) -> Optional[dict]:
    """Provider, model, render time and cost of the project take whose clip is `path`, if any."""
    from core.errors import ImageAIError
    from core.video.project_io import PROJECT_FILE, ProjectStore
    path = Path(path).resolve()
    for folder in list(path.parents)[:4]:
        if (folder / PROJECT_FILE).is_file():
            try:
                store = ProjectStore.open(folder)
            except ImageAIError:
                return None
            for scene in store.project.scenes:
                for take in scene.takes:
                    if take.clip_path and store.resolve(take.clip_path) == path:
                        return {"provider": take.provider, "model": take.model,
                                "render_seconds": take.render_seconds, "cost": take.cost}
            return None
    return None


def clip_row(info: MediaInfo, label: str) -> ClipRow:
    row = ClipRow(label=label, path=str(info.path), width=info.width, height=info.height, fps=info.fps,
                  duration=info.duration, bitrate_kbps=info.bitrate_kbps, video_codec=info.vcodec)
    extra = take_of(info.path)
    if extra:
        row = row.model_copy(update=extra)
    return row


def build_side_by_side(ffmpeg: str, a: MediaInfo, b: MediaInfo, labels: Sequence[str], output: Path,
                       fontfile: Optional[str]) -> FFmpegCommand:
    """Both clips at one height (the smaller, at most 1080), the shorter one holding its last frame, each with its
    label; audio from the first clip that has any."""
    height = min(a.height, b.height, MAX_HEIGHT) // 2 * 2
    fps = a.fps or b.fps or 24
    length = max(a.duration, b.duration)
    size = max(12, height // 20)
    parts = []
    for i, (info, label) in enumerate(zip((a, b), labels)):
        text = ["drawtext=" + ":".join(([f"fontfile={path_value(fontfile)}"] if fontfile else []) + [
            "expansion=none", f"text={literal(label)}", f"fontsize={size}", "fontcolor=white", "box=1",
            "boxcolor=black@0.6", f"boxborderw={size // 4}", f"x={size // 2}", f"y={size // 2}"])]
        parts.append(chain(f"{i}:v", [f"scale=-2:{height}", "setsar=1", f"fps={num(fps)}", "format=yuv420p",
                                      f"tpad=stop_mode=clone:stop_duration={num(length - info.duration + 0.1)}",
                                      f"trim=duration={num(length)}", "setpts=PTS-STARTPTS"] + text, f"s{i}"))
    parts.append(chain(["s0", "s1"], ["hstack=inputs=2", "pad=ceil(iw/2)*2:ih"], "vout"))
    args = head(ffmpeg) + ["-i", str(a.path), "-i", str(b.path), "-filter_complex", ";".join(parts),
                           "-map", "[vout]"]
    audio = 0 if a.has_audio else (1 if b.has_audio else None)
    if audio is not None:
        args += ["-map", f"{audio}:a:0", "-c:a", "aac", "-b:a", "160k"]
    args += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-t", num(length),
             "-movflags", "+faststart", str(output)]
    return FFmpegCommand(args, None, None, length, [output])


def compare_clips(a: Path, b: Path, output: Path, labels: Optional[Sequence[str]] = None, *,
                  ffmpeg: Optional[str] = None, progress: Optional[Callable[[float], None]] = None,
                  cancel: Optional[threading.Event] = None) -> list[ClipRow]:
    import os

    from core.config import load_settings
    from core.video.exporter import find_font
    from core.video.ffmpeg_runner import run_ffmpeg
    from core.video.media import ffmpeg_exe
    ffmpeg = ffmpeg or ffmpeg_exe(load_settings().ffmpeg_path)
    labels = list(labels) if labels else [Path(a).stem, Path(b).stem]
    if len(labels) != 2:
        raise InvalidRequestError("give exactly two labels, one per clip", field="labels")
    infos = [probe(Path(p), ffmpeg) for p in (a, b)]
    for info in infos:
        if not info.has_video or not info.height:
            raise InvalidRequestError(f"{info.path.name}: the file holds no video", field="clip")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(output)
    cmd = build_side_by_side(ffmpeg, infos[0], infos[1], labels, tmp, find_font())
    cmd.args.insert(-1, "-f")
    cmd.args.insert(-1, "mp4")
    try:
        run_ffmpeg(cmd, (lambda f, _s: progress(f)) if progress else None, cancel)
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
    return [clip_row(info, label) for info, label in zip(infos, labels)]


def format_table(rows: Sequence[ClipRow]) -> str:
    cols = [("clip", lambda r: r.label), ("resolution", lambda r: f"{r.width}x{r.height}"),
            ("fps", lambda r: num(round(r.fps, 3))), ("duration", lambda r: f"{r.duration:.2f} s"),
            ("bitrate", lambda r: f"{r.bitrate_kbps} kb/s" if r.bitrate_kbps else "-"),
            ("codec", lambda r: r.video_codec or "-")]
    if any(r.provider for r in rows):
        cols += [("model", lambda r: r.model or r.provider or "-"),
                 ("render time", lambda r: f"{r.render_seconds:.1f} s" if r.render_seconds is not None else "-"),
                 ("cost", lambda r: f"${r.cost:.2f}" if r.provider else "-")]
    cells = [[name for name, _ in cols]] + [[fn(r) for _, fn in cols] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cols))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
