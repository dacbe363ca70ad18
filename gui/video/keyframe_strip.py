"""The keyframe strip of the scene inspector: the scene's length as a time line with a thumbnail at each keyframe's
time. Drag a thumbnail along the line to move it, drop image files on the line to add them at that time, select one
and press Delete (or Remove) to take it out. The strip only draws and reports; the inspector turns each report into
one undoable edit (core.video.scene_edits)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (QDoubleSpinBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QVBoxLayout, QWidget)

from gui.video.image_thumbs import ImageThumbs
from gui.video.reference_images import IMAGE_FILTER

THUMB = QSize(56, 32)
MARGIN = 32       # room at both ends, so a thumbnail at 0 s or at the end is drawn whole
STEP = 0.1        # seconds: a dragged keyframe snaps to this grid
TOLERANCE = 1e-3  # two keyframes closer than this are at the same time


def free_time(times: list[float], duration: float) -> float:
    """Where a new keyframe goes when no time is given: the middle of the largest gap (never on another one)."""
    points = [0.0] + sorted(t for t in times if 0 <= t <= duration) + [duration]
    gaps = [(b - a, (a + b) / 2) for a, b in zip(points, points[1:])]
    return round(max(gaps)[1] / STEP) * STEP if gaps else 0.0


class KeyframeStrip(QWidget):
    #: a keyframe was chosen (its index, -1 for none)
    selected = Signal(int)
    #: a keyframe was dragged to a new time: (index, seconds)
    moved = Signal(int, float)
    #: image files were dropped at a time: (paths, seconds)
    dropped = Signal(list, float)
    #: Delete was pressed on the chosen keyframe
    remove_requested = Signal(int)

    def __init__(self, thumbs: ImageThumbs, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("keyframeStrip")
        self.thumbs = thumbs
        thumbs.ready.connect(self.update)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMinimumHeight(THUMB.height() + 34)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.duration = 5.0
        self.items: list[tuple[float, Optional[Path], str]] = []  # (seconds, file or None when missing, label)
        self.current = -1
        self._drag: Optional[int] = None
        self._drag_time = 0.0
        self._drop_time: Optional[float] = None

    def sizeHint(self) -> QSize:
        return QSize(300, THUMB.height() + 34)

    # --- what is shown --------------------------------------------------------------------------------------
    def set_keyframes(self, duration: float, items: list[tuple[float, Optional[Path], str]]) -> None:
        self.duration = max(duration, STEP)
        self.items = list(items)
        if self.current >= len(self.items):
            self.current = -1
        self._drag = None
        self.update()

    def select(self, index: int) -> None:
        self.current = index if 0 <= index < len(self.items) else -1
        self.update()
        self.selected.emit(self.current)

    # --- geometry -------------------------------------------------------------------------------------------
    def x_of(self, seconds: float) -> float:
        width = max(1, self.width() - 2 * MARGIN)
        return MARGIN + width * min(max(seconds, 0.0), self.duration) / self.duration

    def time_at(self, x: float) -> float:
        width = max(1, self.width() - 2 * MARGIN)
        seconds = (x - MARGIN) / width * self.duration
        return round(min(max(seconds, 0.0), self.duration) / STEP) * STEP

    def _thumb_rect(self, index: int) -> QRectF:
        seconds = self._drag_time if index == self._drag else self.items[index][0]
        x = self.x_of(seconds)
        return QRectF(x - THUMB.width() / 2, 4, THUMB.width(), THUMB.height())

    def index_at(self, pos: QPointF) -> int:
        for i in reversed(range(len(self.items))):  # the one drawn last is on top
            if self._thumb_rect(i).adjusted(-2, -2, 2, 2).contains(pos):
                return i
        return -1

    # --- painting -------------------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        pal = self.palette()
        line_y = THUMB.height() + 12
        p.setPen(QPen(pal.mid().color(), 2))
        p.drawLine(QPointF(MARGIN, line_y), QPointF(self.width() - MARGIN, line_y))
        # a tick each second (each 5 s on long scenes), labelled at both ends and every few ticks
        step = 1.0 if self.duration <= 12 else 5.0
        p.setPen(QPen(pal.text().color(), 1))
        t = 0.0
        while t <= self.duration + 1e-6:
            x = self.x_of(t)
            p.drawLine(QPointF(x, line_y - 3), QPointF(x, line_y + 3))
            t += step
        font = p.font()
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        p.setFont(font)
        p.drawText(QRectF(0, line_y + 4, 2 * MARGIN, 14), Qt.AlignCenter, "0 s")
        p.drawText(QRectF(self.width() - 2 * MARGIN, line_y + 4, 2 * MARGIN, 14), Qt.AlignCenter,
                   f"{self.duration:g} s")
        if not self.items:
            p.setPen(pal.placeholderText().color())
            p.drawText(QRectF(0, 0, self.width(), line_y - 4), Qt.AlignCenter,
                       "No keyframes: drop images here or press Add")
        order = [i for i in range(len(self.items)) if i != self.current] + ([self.current] if self.current >= 0 else [])
        for i in order:
            seconds, path, label = self.items[i]
            rect = self._thumb_rect(i)
            x = rect.center().x()
            p.setPen(QPen(QColor("#1565c0"), 1))
            p.drawLine(QPointF(x, rect.bottom()), QPointF(x, line_y))
            pix = self.thumbs.get(path, THUMB)
            if pix is not None and not pix.isNull():
                target = QRectF(pix.rect()).translated(rect.center() - QRectF(pix.rect()).center())
                p.drawPixmap(target.topLeft(), pix)
            elif path is not None and path.is_file() and pix is None:
                p.fillRect(rect, pal.midlight())  # still loading
            else:
                p.fillRect(rect, QColor("#ffcdd2"))
                p.setPen(QColor("#b71c1c"))
                p.drawText(rect, Qt.AlignCenter, "missing" if pix is None else "unreadable")
            selected = i == self.current
            p.setPen(QPen(QColor("#1565c0") if selected else pal.mid().color(), 3 if selected else 1))
            p.drawRect(rect)
            if selected or i == self._drag:
                shown = self._drag_time if i == self._drag else seconds
                p.setPen(pal.text().color())
                p.drawText(QRectF(x - 30, line_y + 4, 60, 14), Qt.AlignCenter, f"{shown:.1f} s")
        if self._drop_time is not None:
            x = self.x_of(self._drop_time)
            p.setPen(QPen(QColor("#2e7d32"), 2, Qt.DashLine))
            p.drawLine(QPointF(x, 2), QPointF(x, line_y + 4))

    # --- mouse and keys -------------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.LeftButton:
            return super().mousePressEvent(event)
        index = self.index_at(event.position())
        self.select(index)
        if index >= 0:
            self._drag, self._drag_time = index, self.items[index][0]
        self.setFocus()

    def mouseMoveEvent(self, event) -> None:
        if self._drag is not None:
            self._drag_time = self.time_at(event.position().x())
            self.update()

    def mouseReleaseEvent(self, event) -> None:
        if self._drag is None:
            return super().mouseReleaseEvent(event)
        index, seconds = self._drag, self.time_at(event.position().x())
        self._drag = None
        self.update()
        if abs(seconds - self.items[index][0]) > TOLERANCE:
            self.moved.emit(index, seconds)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key_Delete, Qt.Key_Backspace) and self.current >= 0:
            self.remove_requested.emit(self.current)
            return
        super().keyPressEvent(event)

    # --- dropping images ------------------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and self.isEnabled():
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:
        self._drop_time = self.time_at(event.position().x())
        self.update()
        event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:
        self._drop_time = None
        self.update()

    def dropEvent(self, event) -> None:
        self._drop_time = None
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            self.dropped.emit(files, self.time_at(event.position().x()))
            event.acceptProposedAction()
        self.update()


class KeyframeEditor(QWidget):
    """The strip with its buttons: Add (a file dialog; the keyframe goes to the largest free gap), Remove, and the
    chosen keyframe's time as a number (typed times are exact; dragging snaps to 0.1 s)."""

    #: (paths, seconds or None for "find a free time")
    add_requested = Signal(list, object)
    remove_requested = Signal(int)
    move_requested = Signal(int, float)

    def __init__(self, thumbs: ImageThumbs, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.strip = KeyframeStrip(thumbs)
        self.add_button = QPushButton("Add…", objectName="addKeyframeButton")
        self.add_button.setToolTip("Add images as keyframes (or drop image files on the line)")
        self.remove_button = QPushButton("Remove", objectName="removeKeyframeButton", enabled=False)
        self.time = QDoubleSpinBox(objectName="keyframeTimeSpin", decimals=2, singleStep=0.1, suffix=" s",
                                   enabled=False)
        self.time.setToolTip("The chosen keyframe's time in the scene")
        self.time.setKeyboardTracking(False)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        row.addWidget(QLabel("At:"))
        row.addWidget(self.time)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.strip)
        lay.addLayout(row)
        self.add_button.clicked.connect(self._browse)
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self.strip.current))
        self.strip.remove_requested.connect(self.remove_requested)
        self.strip.moved.connect(self.move_requested)
        self.strip.dropped.connect(lambda files, seconds: self.add_requested.emit(files, seconds))
        self.strip.selected.connect(self._on_selected)
        self.time.editingFinished.connect(self._on_time)

    def set_keyframes(self, duration: float, items: list[tuple[float, Optional[Path], str]]) -> None:
        current = self.strip.current
        self.strip.set_keyframes(duration, items)
        self.time.setRange(0.0, max(duration, STEP))
        self.strip.select(current if current < len(items) else -1)

    def _on_selected(self, index: int) -> None:
        has = index >= 0
        self.remove_button.setEnabled(has and self.isEnabled())
        self.time.setEnabled(has and self.isEnabled())
        blocked = self.time.blockSignals(True)
        self.time.setValue(self.strip.items[index][0] if has else 0.0)
        self.time.blockSignals(blocked)

    def _on_time(self) -> None:
        index = self.strip.current
        if index >= 0 and abs(self.time.value() - self.strip.items[index][0]) > TOLERANCE:
            self.move_requested.emit(index, round(self.time.value(), 3))

    def _browse(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add keyframe images", "", IMAGE_FILTER)
        if files:
            self.add_requested.emit(files, None)
