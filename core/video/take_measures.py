"""Objective measures of a clip, computed locally with FFmpeg filters in one decode: sharpness, motion, flicker.

All three read the luma plane of the clip scaled to one analysis height. A comparison passes the same height for
both clips (the smaller one's, at most 360), so a 4K take and a 720p take are measured alike: the figures then
compare the pictures, not their sizes. The numbers are on FFmpeg's 0-255 luma scale.
"""
from __future__ import annotations

import statistics
import tempfile
import threading
from pathlib import Path
from typing import Optional

from pydantic import BaseModel

from core.errors import CancelledError, InvalidRequestError
from core.video.ffmpeg_command import FFmpegCommand, head
from core.video.filters import path_value

ANALYSIS_HEIGHT = 360
KEY = "lavfi.signalstats.YAVG"

#: what each measure means, one line each (shown under the facts table)
MEANINGS = {
    "sharpness": "mean edge strength (Sobel on luma, 0-255): higher = finer detail; blur, smearing and heavy "
                 "compression lower it",
    "motion": "mean change between consecutive frames (absolute luma difference, 0-255): 0 is a still picture, "
              "higher = more movement of the subject or the camera",
    "flicker": "spread of the overall brightness (standard deviation of the per-frame mean luma, 0-255): near 0 "
               "is steady light; a fade or a cut raises it a little, flicker or pumping exposure a lot",
}


class ClipMeasures(BaseModel):
    sharpness: float
    motion: float
    flicker: float
    frames: int
    analysis_height: int


def analysis_height(*heights: int) -> int:
    """One height for every clip of a comparison: the smallest, at most ANALYSIS_HEIGHT, even."""
    usable = [h for h in heights if h and h > 0]
    return max(2, min(usable + [ANALYSIS_HEIGHT]) // 2 * 2)


def build_command(ffmpeg: str, clip: Path, height: int, folder: Path, duration_s: float = 0.0) -> FFmpegCommand:
    """One decode, three branches: Sobel edges, differences of successive frames, the plain picture; each branch's
    per-frame mean luma is printed to its own file."""
    def stats(name: str) -> str:
        return f"signalstats,metadata=mode=print:key={KEY}:file={path_value(folder / (name + '.txt'))}"

    graph = ";".join([
        f"[0:v]scale=-2:{height}:flags=area,setsar=1,format=yuv420p,split=3[s][m][f]",
        f"[s]sobel=planes=1,{stats('sharpness')}[so]",
        f"[m]tblend=all_mode=difference,{stats('motion')}[mo]",
        f"[f]{stats('luma')}[fo]",
    ])
    args = head(ffmpeg) + ["-i", str(clip), "-filter_complex", graph]
    for label in ("so", "mo", "fo"):
        args += ["-map", f"[{label}]", "-f", "null", "-"]
    return FFmpegCommand(args, None, None, duration_s, [])


def read_values(path: Path) -> list[float]:
    values = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(KEY + "="):
                try:
                    values.append(float(line.partition("=")[2]))
                except ValueError:
                    continue
    return values


def measure_clip(clip: Path, *, height: int = ANALYSIS_HEIGHT, ffmpeg: Optional[str] = None,
                 cancel: Optional[threading.Event] = None) -> ClipMeasures:
    from core.config import load_settings
    from core.video.ffmpeg_runner import run_ffmpeg
    from core.video.media import ffmpeg_exe, probe
    ffmpeg = ffmpeg or ffmpeg_exe(load_settings().ffmpeg_path)
    clip = Path(clip)
    info = probe(clip, ffmpeg)
    if not info.has_video:
        raise InvalidRequestError(f"{clip.name}: the file holds no video to measure", field="clip")
    height = analysis_height(height)
    with tempfile.TemporaryDirectory(prefix="imageai-measure-") as tmp:
        folder = Path(tmp)
        try:
            run_ffmpeg(build_command(ffmpeg, clip, height, folder, info.duration), None, cancel)
        except CancelledError:
            raise CancelledError("measuring the clip was cancelled") from None
        edges, diffs, luma = (read_values(folder / f"{n}.txt") for n in ("sharpness", "motion", "luma"))
    if not luma:
        raise InvalidRequestError(f"{clip.name}: FFmpeg decoded no frame to measure", field="clip")
    return ClipMeasures(sharpness=round(statistics.fmean(edges), 3) if edges else 0.0,
                        motion=round(statistics.fmean(diffs), 3) if diffs else 0.0,  # one frame: no motion
                        flicker=round(statistics.pstdev(luma), 3), frames=len(luma), analysis_height=height)
