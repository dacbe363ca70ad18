"""Compare a scene's takes (each render attempt) side by side, preview one, and choose the one the export uses."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHBoxLayout, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from core.errors import ImageAIError
from core.video.scene_edits import SelectTake
from gui.video.project_session import ProjectSession

HEADERS = ("Chosen", "Created", "Provider / model", "Status", "Cost", "Seed", "Render time", "Clip", "Notes")


class TakesDialog(QDialog):
    preview_requested = Signal(str)
    problem = Signal(str)

    def __init__(self, session: ProjectSession, scene_id: str, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.session = session
        self.scene_id = scene_id
        scene = session.project.scene(scene_id)
        self.setWindowTitle(f"Takes of scene {session.project.scenes.index(scene) + 1}")
        self.table = QTableWidget(0, len(HEADERS), objectName="takesTable")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.preview_button = QPushButton("Preview", objectName="previewTakeButton")
        self.choose_button = QPushButton("Use this take", objectName="chooseTakeButton")
        close = QDialogButtonBox(QDialogButtonBox.Close)
        close.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.preview_button)
        row.addWidget(self.choose_button)
        row.addStretch(1)
        row.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table)
        lay.addLayout(row)
        self.preview_button.clicked.connect(self._preview)
        self.choose_button.clicked.connect(self.choose_current)
        self.table.itemSelectionChanged.connect(self._enable)
        self.table.doubleClicked.connect(lambda _: self._preview())
        self.resize(820, 320)
        self.refresh()

    def refresh(self) -> None:
        scene = self.session.project.scene(self.scene_id)
        current = self._current_take()
        self.table.setRowCount(0)
        for take in reversed(scene.takes):
            r = self.table.rowCount()
            self.table.insertRow(r)
            seconds = take.render_seconds
            values = ("✔" if take.id == scene.selected_take_id else "",
                      take.created_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                      take.provider + (f" / {take.model}" if take.model else ""),
                      take.status + (f": {take.error}" if take.error else ""),
                      f"${take.cost:.2f}", "" if take.seed is None else str(take.seed),
                      f"{seconds:.0f} s" if seconds is not None else "", take.clip_path or "",
                      "; ".join(take.notes))  # the plan's adjustments and ignored settings, as shown before
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                item.setData(Qt.UserRole, take.id)
                self.table.setItem(r, c, item)
            if current is not None and take.id == current.id:
                self.table.selectRow(r)
        self.table.resizeColumnsToContents()
        self._enable()

    def _current_take(self):
        items = self.table.selectedItems()
        if not items:
            return None
        return self.session.project.scene(self.scene_id).take(items[0].data(Qt.UserRole))

    def _enable(self) -> None:
        take = self._current_take()
        ok = take is not None and take.status == "done" and bool(take.clip_path)
        self.preview_button.setEnabled(ok)
        self.choose_button.setEnabled(ok)

    def _preview(self) -> None:
        take = self._current_take()
        if take is not None and take.clip_path:
            self.preview_requested.emit(str(self.session.store.resolve(take.clip_path)))

    def choose_current(self) -> None:
        take = self._current_take()
        if take is None:
            return
        try:
            self.session.apply(SelectTake(self.scene_id, take.id))
        except ImageAIError as exc:
            self.problem.emit(str(exc))
        self.refresh()
