"""Scene thumbnails: the start frame, or (without one) the first second of the scene's chosen clip. Images are
decoded and clips' frames extracted with FFmpeg on a worker thread; the GUI thread only turns a small QImage into a
QPixmap, so a 4K start frame or a long clip never stalls the window."""
from __future__ import annotations

import logging
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage, QPixmap

from core.child_process import child_kwargs
from core.errors import ImageAIError
from core.video.media import ffmpeg_exe
from core.video.project import Scene
from core.video.project_io import ProjectStore

log = logging.getLogger(__name__)
THUMB_W, THUMB_H = 80, 45
NO_WINDOW = getattr(subprocess, "CREATE_NO_WINDOW", 0)


def load_image(path: Path, width: int = THUMB_W, height: int = THUMB_H) -> Optional[QImage]:
    """A scaled QImage of an image file or of a video's first frame (safe on any thread)."""
    if path.suffix.lower() in (".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v"):
        try:
            out = subprocess.run([ffmpeg_exe(), "-v", "error", "-ss", "0.3", "-i", str(path), "-frames:v", "1",
                                  "-vf", f"scale={width * 2}:-2", "-f", "image2pipe", "-vcodec", "png", "pipe:1"],
                                 capture_output=True, timeout=30, **child_kwargs(creationflags=NO_WINDOW))
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.info("no thumbnail for %s: %s", path.name, exc)
            return None
        image = QImage.fromData(out.stdout, "PNG")
    else:
        image = QImage(str(path))
    if image.isNull():
        return None
    return image.scaled(width, height, Qt.KeepAspectRatio, Qt.SmoothTransformation)


class ThumbnailCache(QObject):
    #: a scene's thumbnail finished loading
    ready = Signal(str)
    _loaded = Signal(str, str, object)  # scene id, cache key, QImage or None (from the worker thread)

    def __init__(self, parent: Optional[QObject] = None):
        super().__init__(parent)
        self._pixmaps: dict[str, Optional[QPixmap]] = {}
        self._pending: set[str] = set()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="thumbnails")
        self._loaded.connect(self._on_loaded)

    @staticmethod
    def source(store: ProjectStore, scene: Scene) -> Optional[Path]:
        if scene.start_frame:
            return store.resolve(scene.start_frame)
        take = scene.selected_take
        if take is not None and take.clip_path:
            return store.resolve(take.clip_path)
        return None

    def source_key(self, store: Optional[ProjectStore], scene: Scene) -> Optional[tuple[str, Path]]:
        """(cache key, file) of the scene's thumbnail source; the key changes when the file does."""
        if store is None:
            return None
        try:
            path = self.source(store, scene)
            if path is None or not path.is_file():
                return None
            return f"{path}|{path.stat().st_mtime_ns}", path
        except (OSError, ValueError, ImageAIError):
            return None

    def pixmap(self, source: tuple[str, Path], scene_id: str) -> Optional[QPixmap]:
        """The thumbnail when loaded; otherwise start loading it (ready(scene_id) follows) and return None."""
        key, path = source
        if key in self._pixmaps:
            return self._pixmaps[key]
        if key not in self._pending:
            self._pending.add(key)
            self._pool.submit(self._load, scene_id, key, path)
        return None

    def pixmap_for(self, store: Optional[ProjectStore], scene: Scene) -> Optional[QPixmap]:
        source = self.source_key(store, scene)
        return self.pixmap(source, scene.id) if source else None

    def _load(self, scene_id: str, key: str, path: Path) -> None:
        try:
            image = load_image(path)
        except Exception as exc:  # a broken file gives no thumbnail, never a crash
            log.info("thumbnail of %s failed: %s", path.name, exc)
            image = None
        self._loaded.emit(scene_id, key, image)

    def _on_loaded(self, scene_id: str, key: str, image: Optional[QImage]) -> None:
        self._pending.discard(key)
        self._pixmaps[key] = QPixmap.fromImage(image) if image is not None else None
        self.ready.emit(scene_id)

    def loaded_count(self) -> int:
        return sum(1 for p in self._pixmaps.values() if p is not None)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
