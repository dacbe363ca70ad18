"""Planning a chained scene before its parent rendered: the provider prepares the child against a stand-in of the
clip the parent will make (same size, frame rate and length, plain grey), so the estimate shown before the run
includes the child and its problems are found before anything is spent. When the parent's clip exists the queue
prepares the child again against it (core/render/queue.py).

A stand-in has one frame a second: `prepare` reads a video's size and length, never its frame rate, and a 4K clip at
50 fps would take minutes to encode on a busy machine. Stand-ins are kept per shape for the life of the process (the
window estimates again after edits) in one temporary folder, removed at exit."""
from __future__ import annotations

import atexit
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Optional

from core.errors import InvalidRequestError
from core.render.contract import RenderPlan

#: the stand-in's size when the parent's plan does not say (a resumed job whose plan could not be made again)
DEFAULT_SIZE = (1280, 720)

_made: dict[tuple, Path] = {}
_lock = threading.Lock()  # the window plans on a worker thread
_folder: list[Path] = []


def _stand_in_folder() -> Path:
    if not _folder:
        _folder.append(Path(tempfile.mkdtemp(prefix="imageai-chain-")))
        atexit.register(shutil.rmtree, _folder[0], True)
    return _folder[0]


class StandIns:
    """Stand-in clips of parents' plans (each shape made once per process)."""

    def __init__(self, ffmpeg: Optional[str] = None):
        self.ffmpeg = ffmpeg

    def clip_for(self, plan: Optional[RenderPlan], seconds: float) -> Path:
        """A clip as large and as long as what `plan` renders (`seconds` long when the plan does not say)."""
        width, height = DEFAULT_SIZE
        if plan is not None:
            width, height = plan.width or width, plan.height or height
            seconds = plan.expected_seconds or plan.render_seconds or seconds
        key = (int(width) // 2 * 2, int(height) // 2 * 2, round(float(seconds), 3))
        with _lock:
            if key not in _made or not _made[key].is_file():
                _made[key] = self._make(*key)
            return _made[key]

    def _make(self, width: int, height: int, seconds: float) -> Path:
        from core.child_process import child_kwargs
        from core.video.media import ffmpeg_exe
        out = _stand_in_folder() / f"parent-{width}x{height}-{seconds:g}.mp4"
        cmd = [ffmpeg_exe(self.ffmpeg), "-hide_banner", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
               f"color=c=gray:s={width}x{height}:r=1:d={seconds:g}", "-c:v", "libx264", "-preset",
               "ultrafast", "-pix_fmt", "yuv420p", "-y", str(out)]
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=120, **child_kwargs())
        if proc.returncode != 0 or not out.is_file():
            raise InvalidRequestError(f"the stand-in for the clip to extend could not be made: "
                                      f"{proc.stderr.strip()[-300:]}", field="extend_scene_id")
        return out
