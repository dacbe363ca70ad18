"""Clip preview inside the app. PySide6-Essentials ships no QtMultimedia, so frames are decoded by FFmpeg on a
worker thread (small RGB frames through a pipe, a bounded queue) and a QTimer on the GUI thread shows them at the
clip's pace. Video only: the sound of a clip is not played here."""
from __future__ import annotations

import logging
import queue
import subprocess
import threading
from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from core.errors import ImageAIError
from core.video.media import ffmpeg_exe

log = logging.getLogger(__name__)
PREVIEW_W = 384
PREVIEW_FPS = 24
NO_WINDOW = getattr(subprocess, "CREATE_NO_WINDOW", 0)


class _Decoder(threading.Thread):
    """Reads raw frames from FFmpeg into a bounded queue; stops when asked or at the end (puts None)."""

    def __init__(self, path: Path, width: int, height: int, fps: float, frames: "queue.Queue"):
        super().__init__(name="preview-decoder", daemon=True)
        self.path, self.width, self.height, self.fps = path, width, height, fps
        self.frames = frames
        self.stop_event = threading.Event()
        self.proc: Optional[subprocess.Popen] = None

    def run(self) -> None:
        size = self.width * self.height * 3
        try:
            self.proc = subprocess.Popen(
                [ffmpeg_exe(), "-v", "error", "-i", str(self.path), "-an", "-vf",
                 f"fps={self.fps:g},scale={self.width}:{self.height}:force_original_aspect_ratio=decrease,"
                 f"pad={self.width}:{self.height}:(ow-iw)/2:(oh-ih)/2", "-f", "rawvideo", "-pix_fmt", "rgb24",
                 "pipe:1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                creationflags=NO_WINDOW)
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
            log.warning("preview of %s failed: %s", self.path.name, exc)
        finally:
            if self.proc is not None:
                if self.proc.poll() is None:
                    self.proc.kill()
                self.proc.wait()
            try:
                self.frames.put(None, timeout=1)
            except queue.Full:
                pass

    def stop(self) -> None:
        self.stop_event.set()


class PreviewWidget(QWidget):
    #: playback started (path) / ended
    started = Signal(str)
    finished = Signal()

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("previewWidget")
        self.screen = QLabel("No clip")
        self.screen.setAlignment(Qt.AlignCenter)
        self.screen.setMinimumSize(240, 135)
        self.screen.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.screen.setStyleSheet("background:#111; color:#aaa;")
        self.caption = QLabel("")
        self.caption.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.play_button = QPushButton("Play", objectName="previewPlayButton")
        self.stop_button = QPushButton("Stop", objectName="previewStopButton")
        self.play_button.setEnabled(False)
        self.stop_button.setEnabled(False)
        row = QHBoxLayout()
        row.addWidget(self.caption, 1)
        row.addWidget(self.play_button)
        row.addWidget(self.stop_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.screen, 1)
        lay.addLayout(row)
        self.path: Optional[Path] = None
        self.frames_shown = 0
        self._size = (PREVIEW_W, PREVIEW_W * 9 // 16)  # every frame is letterboxed to this
        self._queue: "queue.Queue" = queue.Queue(maxsize=48)
        self._decoder: Optional[_Decoder] = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self.play_button.clicked.connect(lambda: self.play(self.path) if self.path else None)
        self.stop_button.clicked.connect(self.stop)

    def is_playing(self) -> bool:
        return self._timer.isActive()

    def play(self, path) -> None:
        """Start playing a clip or an export. FFmpeg letterboxes every frame to one fixed size, so nothing needs to
        be probed on the GUI thread; decoding runs on a thread."""
        self.stop()
        self.path = Path(path)
        if not self.path.is_file():
            self.screen.setText(f"Cannot play {self.path.name}: no such file")
            return
        self._queue = queue.Queue(maxsize=48)
        self._decoder = _Decoder(self.path, *self._size, PREVIEW_FPS, self._queue)
        self._decoder.start()
        self.frames_shown = 0
        self.caption.setText(self.path.name)
        self.play_button.setEnabled(True)
        self.stop_button.setEnabled(True)
        self._timer.start(int(1000 / PREVIEW_FPS))
        self.started.emit(str(self.path))

    def _tick(self) -> None:
        try:
            data = self._queue.get_nowait()
        except queue.Empty:
            return  # the decoder is behind: keep the last frame
        if data is None:
            self._end()
            return
        w, h = self._size
        image = QImage(data, w, h, w * 3, QImage.Format_RGB888).copy()
        pix = QPixmap.fromImage(image)
        self.screen.setPixmap(pix.scaled(self.screen.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation))
        self.frames_shown += 1

    def _end(self) -> None:
        self._timer.stop()
        self.stop_button.setEnabled(False)
        self.finished.emit()

    def stop(self) -> None:
        if self._decoder is not None:
            self._decoder.stop()
            self._decoder = None
        if self._timer.isActive():
            self._end()

    def closeEvent(self, event) -> None:
        self.stop()
        super().closeEvent(event)
