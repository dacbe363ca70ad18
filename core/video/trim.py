"""Cutting a clip to a length (the single-clip CLI, where a model rendered more than was asked for)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from core.child_process import child_kwargs
from core.errors import ImageAIError
from core.video.media import ffmpeg_exe, probe


def trim_clip(path: Path, seconds: float) -> float:
    """Cut `path` in place to its first `seconds` (re-encoded, so the cut is frame-exact). Returns the new length."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.trim{path.suffix}")
    cmd = [ffmpeg_exe(), "-v", "error", "-nostdin", "-y", "-i", str(path), "-t", f"{seconds:.3f}", "-map", "0",
           "-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-pix_fmt", "yuv420p", "-c:a", "aac",
           "-movflags", "+faststart", str(tmp)]
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", **child_kwargs())
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise ImageAIError(f"cutting {path.name} to {seconds:g} s failed: {proc.stderr.strip()[-300:]}")
    os.replace(tmp, path)
    return probe(path).duration
