"""Planning a chained scene before its parent rendered: the provider prepares the child against a stand-in of the
clip the parent will make (same size, frame rate and length, plain grey), so the estimate shown before the run
includes the child and its problems are found before anything is spent. When the parent's clip exists the queue
prepares the child again against it (core/render/queue.py)."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

from core.errors import InvalidRequestError
from core.render.contract import RenderPlan

#: the stand-in's shape when the parent's plan does not say (a resumed job whose plan could not be made again)
DEFAULT_SHAPE = (1280, 720, 24.0)


class StandIns:
    """Stand-in clips for one planning call, in a temporary folder removed when the call ends."""

    def __init__(self, ffmpeg: Optional[str] = None):
        self.ffmpeg = ffmpeg
        self.folder: Optional[Path] = None
        self.made: dict[tuple, Path] = {}

    def __enter__(self) -> "StandIns":
        return self

    def __exit__(self, *exc) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def clip_for(self, plan: Optional[RenderPlan], seconds: float) -> Path:
        """A clip shaped like what `plan` renders (`seconds` long when the plan does not say)."""
        width, height, fps = DEFAULT_SHAPE
        if plan is not None:
            width, height = plan.width or width, plan.height or height
            fps = plan.fps or fps
            seconds = plan.expected_seconds or plan.render_seconds or seconds
        key = (int(width) // 2 * 2, int(height) // 2 * 2, float(fps), round(float(seconds), 3))
        if key not in self.made:
            self.made[key] = self._make(*key)
        return self.made[key]

    def _make(self, width: int, height: int, fps: float, seconds: float) -> Path:
        from core.child_process import child_kwargs
        from core.video.media import ffmpeg_exe
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="imageai-chain-"))
        out = self.folder / f"parent-{width}x{height}-{fps:g}-{seconds:g}.mp4"
        cmd = [ffmpeg_exe(self.ffmpeg), "-hide_banner", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
               f"color=c=gray:s={width}x{height}:r={fps:g}:d={seconds:g}", "-c:v", "libx264", "-preset",
               "ultrafast", "-pix_fmt", "yuv420p", "-y", str(out)]
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=120, **child_kwargs())
        if proc.returncode != 0 or not out.is_file():
            raise InvalidRequestError(f"the stand-in for the clip to extend could not be made: "
                                      f"{proc.stderr.strip()[-300:]}", field="extend_scene_id")
        return out
