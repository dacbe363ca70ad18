"""Input pickers of the scene inspector: a frame slot (an image: thumbnail, choose, drop, clear) and a video picker
(a file typed, browsed or dropped). They only report the file the user gave; the inspector checks it, copies it
into the project (ProjectStore.import_asset) and makes the undoable edit."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QToolButton, QVBoxLayout,
                               QWidget)

from gui.video.image_thumbs import ImageThumbs
from gui.video.reference_images import IMAGE_FILTER

FRAME = QSize(96, 54)
VIDEO_FILTER = "Videos (*.mp4 *.mov *.webm *.mkv *.avi)"


def _dropped_files(event) -> list[str]:
    return [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]


class OneFileInput(QWidget):
    """What both pickers share: a file browsed or dropped (the first of several) is reported by `chosen`."""

    chosen = Signal(str)

    def _browse_for(self, caption: str, file_filter: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, caption, "", file_filter)
        if path:
            self.chosen.emit(path)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and self.isEnabled():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = _dropped_files(event)
        if files:
            self.chosen.emit(files[0])
            event.acceptProposedAction()


class FrameSlot(OneFileInput):
    """One image input (start or end frame): click the thumbnail or drop a file to set it, Clear to remove it."""

    cleared = Signal()

    def __init__(self, title: str, object_name: str, thumbs: ImageThumbs, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setAcceptDrops(True)
        self.title = title
        self.thumbs = thumbs
        self._path: Optional[Path] = None
        thumbs.ready.connect(self._show_icon)
        self.thumb = QToolButton(objectName=object_name + "Thumb")
        self.thumb.setIconSize(FRAME)
        self.thumb.setFixedSize(FRAME + QSize(8, 8))
        self.thumb.clicked.connect(self._browse)
        self.clear_button = QPushButton("Clear", objectName=object_name + "Clear")
        self.clear_button.clicked.connect(self.cleared)
        self.name = QLabel()
        self.name.setMaximumWidth(FRAME.width() + 8)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(QLabel(title))
        head.addStretch(1)
        head.addWidget(self.clear_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(head)
        lay.addWidget(self.thumb)
        lay.addWidget(self.name)
        self.show_file(None, None)

    def show_file(self, rel: Optional[str], path: Optional[Path]) -> None:
        self.clear_button.setEnabled(rel is not None and self.isEnabled())
        self._path = path if rel is not None else None
        if rel is None:
            self.thumb.setIcon(QIcon())
            self.thumb.setText("+ Image")
            self.thumb.setToolTip(f"Choose the {self.title.lower()} (or drop an image here)")
            self.name.setText("")
            return
        if path is not None and path.is_file():
            self.thumb.setToolTip(f"{rel}\nClick to choose another image (or drop one here)")
        else:
            self.thumb.setToolTip(f"{rel} is missing: choose another image or Clear")
        self.name.setText(self.name.fontMetrics().elidedText(Path(rel).name, Qt.ElideMiddle, FRAME.width() + 8))
        self._show_icon()

    def _show_icon(self) -> None:
        """The thumbnail once the worker has decoded it (a large frame is never decoded on the GUI thread)."""
        if self._path is None:
            return
        pix = self.thumbs.get(self._path, FRAME)
        if pix is not None and not pix.isNull():
            self.thumb.setText("")
            self.thumb.setIcon(QIcon(pix))
        else:
            self.thumb.setIcon(QIcon())
            self.thumb.setText("…" if pix is None and self._path.is_file() else "missing")

    def _browse(self) -> None:
        self._browse_for(f"Choose the {self.title.lower()}", IMAGE_FILTER)


class VideoPicker(OneFileInput):
    """A video file: typed (Enter), browsed or dropped. Shows the project's file once it is set."""

    def __init__(self, object_name: str, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.path = QLineEdit(objectName=object_name)
        self.path.setPlaceholderText("Type a path, browse or drop a video")
        self.path.setClearButtonEnabled(True)
        self.browse = QPushButton("Browse…", objectName=object_name + "Browse")
        self.browse.clicked.connect(self._browse)
        self.path.editingFinished.connect(self._typed)
        self._shown = ""
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.path, 1)
        lay.addWidget(self.browse)

    def show_file(self, rel: Optional[str]) -> None:
        self._shown = rel or ""
        blocked = self.path.blockSignals(True)
        self.path.setText(self._shown)
        self.path.setCursorPosition(0)  # the start of a long path, not its end
        self.path.setToolTip(self._shown)
        self.path.blockSignals(blocked)

    def _typed(self) -> None:
        text = self.path.text().strip()
        if text and text != self._shown:
            self.chosen.emit(text)

    def _browse(self) -> None:
        self._browse_for("Choose a video", VIDEO_FILTER)
