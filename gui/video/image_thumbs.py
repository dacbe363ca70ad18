"""Small thumbnails of image files for the scene inspector (frames, keyframes), decoded on a worker thread: a 4K
keyframe never stalls the window. `get` answers at once with the thumbnail or None (and starts loading it);
`ready` follows when it is there, and the widget asks again."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QObject, QSize, Signal
from PySide6.QtGui import QPixmap

from gui.video.thumbnails import load_image

log = logging.getLogger(__name__)
MAX_KEPT = 300  # thumbnails kept (the files of a few projects' scenes)


class ImageThumbs(QObject):
    ready = Signal()
    _loaded = Signal(str, object)  # cache key, QImage or None (from the worker thread)

    def __init__(self, parent: Optional[QObject] = None):
        super().__init__(parent)
        self._pixmaps: dict[str, Optional[QPixmap]] = {}
        self._pending: set[str] = set()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inspector-thumbs")
        self._loaded.connect(self._on_loaded)

    def get(self, path: Optional[Path], size: QSize) -> Optional[QPixmap]:
        """The thumbnail when loaded (a null QPixmap for a file that cannot be read); None while it loads or for no
        file."""
        try:
            if path is None or not path.is_file():
                return None
            key = f"{path}|{path.stat().st_mtime_ns}|{size.width()}x{size.height()}"
        except OSError:
            return None
        if key in self._pixmaps:
            return self._pixmaps[key] or QPixmap()
        if key not in self._pending:
            self._pending.add(key)
            self._pool.submit(self._load, key, path, size.width(), size.height())
        return None

    def _load(self, key: str, path: Path, width: int, height: int) -> None:
        try:
            image = load_image(path, width, height)
        except Exception as exc:  # a broken file shows as missing, never a crash
            log.info("no thumbnail of %s: %s", path.name, exc)
            image = None
        self._loaded.emit(key, image)

    def _on_loaded(self, key: str, image) -> None:
        self._pending.discard(key)
        if len(self._pixmaps) >= MAX_KEPT:
            self._pixmaps.clear()
        self._pixmaps[key] = QPixmap.fromImage(image) if image is not None else None
        self.ready.emit()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
