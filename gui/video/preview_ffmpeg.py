"""The preview's fallback when QtMultimedia cannot play: frames decoded by FFmpeg on a worker thread (small RGB
frames through a pipe, a bounded queue) and a QTimer on the GUI thread that hands them out at the clip's pace.
Picture only: the sound of a clip is not played here."""
from __future__ import annotations

import logging
import queue
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

from core.child_process import child_kwargs
from core.errors import ImageAIError
from core.video.media import ffmpeg_exe

log = logging.getLogger(__name__)
PREVIEW_W = 384
PREVIEW_FPS = 24
NO_WINDOW = getattr(subprocess, "CREATE_NO_WINDOW", 0)


class _Decoder(threading.Thread):
    """Reads raw frames from FFmpeg into a bounded queue; stops when asked or at the end (puts None). `error` holds
    FFmpeg's last complaint, if any."""

    def __init__(self, path: Path, width: int, height: int, fps: float, frames: "queue.Queue"):
        super().__init__(name="preview-decoder", daemon=True)
        self.path, self.width, self.height, self.fps = path, width, height, fps
        self.frames = frames
        self.stop_event = threading.Event()
        self.proc: Optional[subprocess.Popen] = None
        self.error = ""

    def run(self) -> None:
        size = self.width * self.height * 3
        # stderr goes to a file, not a pipe: a stream of decode errors must never fill a pipe nobody reads
        with tempfile.TemporaryFile() as err:
            try:
                self.proc = subprocess.Popen(
                    [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(self.path), "-an", "-vf",
                     f"fps={self.fps:g},scale={self.width}:{self.height}:force_original_aspect_ratio=decrease,"
                     f"pad={self.width}:{self.height}:(ow-iw)/2:(oh-ih)/2", "-f", "rawvideo", "-pix_fmt", "rgb24",
                     "pipe:1"], stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL,
                    **child_kwargs(creationflags=NO_WINDOW))
                while not self.stop_event.is_set():
                    data = self.proc.stdout.read(size)
                    if len(data) < size:
                        break
                    while not self.stop_event.is_set():
                        try:
                            self.frames.put(data, timeout=0.2)
                            break
                        except queue.Full:
                            continue
            except (OSError, ImageAIError) as exc:
                self.error = str(exc)
                log.warning("preview of %s failed: %s", self.path.name, exc)
            finally:
                if self.proc is not None:
                    if self.proc.poll() is None:
                        self.proc.kill()
                    self.proc.wait()
                    self.proc.stdout.close()
                    if not self.error:
                        err.seek(0)
                        lines = [ln.strip() for ln in err.read()[-2000:].decode("utf-8", "replace").splitlines()]
                        self.error = next((ln for ln in reversed(lines) if ln), "")
                try:
                    self.frames.put(None, timeout=1)
                except queue.Full:
                    pass

    def stop(self) -> None:
        self.stop_event.set()
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.kill()  # does not wait: the thread reaps it


class FramePlayer(QObject):
    """Plays one file as a stream of QImages, letterboxed to one fixed size (nothing is probed on the GUI thread)."""

    #: a new picture
    frame = Signal(QImage)
    #: the stream ended: "" after at least one frame, else why nothing could be shown
    ended = Signal(str)

    def __init__(self, parent: Optional[QObject] = None, width: int = PREVIEW_W, fps: float = PREVIEW_FPS):
        super().__init__(parent)
        self.size = (width, width * 9 // 16)
        self.fps = fps
        self.frames_shown = 0
        self._queue: "queue.Queue" = queue.Queue(maxsize=48)
        self._decoder: Optional[_Decoder] = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)

    def start(self, path: Path) -> None:
        self.stop()
        self.frames_shown = 0
        self._queue = queue.Queue(maxsize=48)
        self._decoder = _Decoder(Path(path), *self.size, self.fps, self._queue)
        self._decoder.start()
        self._timer.start(int(1000 / self.fps))

    def is_active(self) -> bool:
        """A file is loaded (playing or paused)."""
        return self._decoder is not None

    def is_running(self) -> bool:
        return self._timer.isActive()

    def pause(self) -> None:
        self._timer.stop()  # the decoder blocks on the full queue meanwhile

    def resume(self) -> None:
        if self._decoder is not None:
            self._timer.start(int(1000 / self.fps))

    def position_ms(self) -> int:
        return int(self.frames_shown * 1000 / self.fps)

    def stop(self) -> None:
        self._timer.stop()
        if self._decoder is not None:
            self._decoder.stop()
            self._decoder = None

    def _tick(self) -> None:
        try:
            data = self._queue.get_nowait()
        except queue.Empty:
            return  # the decoder is behind: keep the last frame
        if data is None:
            decoder = self._decoder
            self._timer.stop()
            self._decoder = None
            error = ""
            if self.frames_shown == 0:
                error = (decoder.error if decoder is not None else "") or "no picture in this file"
            self.ended.emit(error)
            return
        w, h = self.size
        self.frames_shown += 1
        self.frame.emit(QImage(data, w, h, w * 3, QImage.Format_RGB888).copy())
