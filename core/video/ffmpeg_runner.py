"""Run one FFmpeg command: `-progress pipe:1` parsing, cancel (terminate, then kill), stderr kept for the error."""
from __future__ import annotations

import functools
import re
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Callable, Optional

from core.child_process import child_kwargs
from core.errors import CancelledError, ImageAIError, UnavailableError
from core.video.ffmpeg_command import FFmpegCommand

ProgressFn = Callable[[float, Optional[float]], None]  # (fraction of this command 0..1, speed x realtime)


@functools.lru_cache(maxsize=8)
def ffmpeg_major(ffmpeg: str) -> int:
    """Major version (decides how a graph file is passed); 7 when the version string is not a release number."""
    try:
        out = subprocess.run([ffmpeg, "-hide_banner", "-version"], capture_output=True, text=True,
                             errors="replace", timeout=30).stdout
    except OSError as exc:
        raise UnavailableError(f"cannot run FFmpeg at {ffmpeg} ({exc.strerror}); set IMAGEAI_FFMPEG") from None
    m = re.search(r"version n?(\d+)\.", out)
    return int(m.group(1)) if m else 7


class ExportFailed(ImageAIError):
    kind = "export_failed"


def run_ffmpeg(cmd: FFmpegCommand, on_progress: Optional[ProgressFn] = None,
               cancel: Optional[threading.Event] = None) -> None:
    """Write the graph file, run, report progress; CancelledError when `cancel` is set (the process is ended and
    its outputs are left to the caller to delete); ExportFailed with FFmpeg's last error lines on failure."""
    if cancel is not None and cancel.is_set():
        raise CancelledError("export cancelled")
    if cmd.graph is not None and cmd.graph_path is not None:
        Path(cmd.graph_path).write_text(cmd.graph, encoding="utf-8")
    total_us = max(cmd.duration_s, 1e-3) * 1e6
    with tempfile.TemporaryFile() as err:
        try:
            # child_kwargs: FFmpeg dies with the app (a killed CLI or GUI leaves no encoder running)
            proc = subprocess.Popen(cmd.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                                    text=True, errors="replace", bufsize=1, **child_kwargs())
        except OSError as exc:
            raise UnavailableError(f"cannot run FFmpeg at {cmd.args[0]} ({exc.strerror}); set IMAGEAI_FFMPEG") \
                from None
        cancelled = threading.Event()
        finished = threading.Event()

        def watch() -> None:
            # a separate watcher ends FFmpeg promptly even while the reader waits for the next progress block
            while not finished.wait(0.05):
                if cancel is not None and cancel.is_set():
                    cancelled.set()
                    proc.terminate()
                    try:
                        proc.wait(3)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                    return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        block: dict[str, str] = {}
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                key, _, value = line.strip().partition("=")
                block[key] = value
                if key == "progress":
                    if on_progress is not None:
                        us = block.get("out_time_us", "N/A")
                        done = int(us) if us.lstrip("-").isdigit() and int(us) > 0 else 0
                        frac = 1.0 if value == "end" else min(0.999, done / total_us)
                        speed = block.get("speed", "N/A").rstrip("x")
                        on_progress(frac, float(speed) if re.fullmatch(r"[\d.]+", speed) else None)
                    block = {}
            rc = proc.wait()
        finally:
            finished.set()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            watcher.join()
        if cancelled.is_set() or (rc != 0 and cancel is not None and cancel.is_set()):
            raise CancelledError("export cancelled")
        if rc != 0:
            err.seek(0)
            tail = err.read().decode("utf-8", "replace").strip().splitlines()[-8:]
            raise ExportFailed(f"FFmpeg failed (exit {rc}): " + " | ".join(tail))
