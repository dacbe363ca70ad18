"""The result half of the compare dialog: each take in its own player with "Keep this take", and the facts table
(one column per take, one row per fact of core/video/compare_takes.FACT_ROWS) with a line on what each measure
means. Shows values only; keeping a take is the dialog's (an undoable SelectTake)."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QGroupBox, QHeaderView, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from core.video.compare_takes import FACT_ROWS, TakeFacts
from core.video.take_measures import MEANINGS
from gui.video.preview import PreviewWidget


class TakeColumn(QGroupBox):
    """One side: its player, and the button that makes its take the scene's chosen one."""

    keep_requested = Signal(str)  # the take id

    def __init__(self, side: int, parent: Optional[QWidget] = None):
        super().__init__(f"Take {side}", parent)
        self.setObjectName(f"compareSide{side}")
        self.take_id: Optional[str] = None
        self.clip: Optional[str] = None
        self.preview = PreviewWidget()
        self.preview.setObjectName(f"comparePreview{side}")
        self.preview.setMinimumHeight(200)
        self.keep_button = QPushButton("Keep this take", objectName=f"compareKeep{side}", enabled=False)
        self.keep_button.setToolTip("Make this take the scene's chosen one (the export uses it; undoable)")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.preview, 1)
        lay.addWidget(self.keep_button)
        self.keep_button.clicked.connect(lambda: self.take_id and self.keep_requested.emit(self.take_id))

    def show_take(self, title: str, take_id: Optional[str], clip: Optional[str]) -> None:
        self.setTitle(title)
        self.take_id = take_id
        self.clip = clip
        self.keep_button.setEnabled(bool(take_id and clip))

    def play(self) -> None:
        if self.clip:
            self.preview.play(self.clip)

    def set_kept(self, kept: bool) -> None:
        self.keep_button.setText("Kept ✔ (the scene's chosen take)" if kept else "Keep this take")
        self.keep_button.setEnabled(not kept and bool(self.take_id and self.clip))  # a failed take has no clip


class FactsTable(QWidget):
    """The facts of both takes, and what each objective measure means."""

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.table = QTableWidget(len(FACT_ROWS), 2, objectName="compareFacts")
        self.table.setVerticalHeaderLabels([name for name, _ in FACT_ROWS])
        self.table.setHorizontalHeaderLabels(["Take 1", "Take 2"])
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.meanings = QLabel("<br>".join(f"<b>{name}</b>: {text}" for name, text in MEANINGS.items()),
                               objectName="compareMeanings")
        self.meanings.setWordWrap(True)
        self.meanings.setTextInteractionFlags(Qt.TextSelectableByMouse)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.meanings)

    def show_facts(self, rows: list[TakeFacts]) -> None:
        self.table.setHorizontalHeaderLabels([f"Take {r.side} ({r.provider})" for r in rows])
        for c, row in enumerate(rows):
            for r, (_name, fn) in enumerate(FACT_ROWS):
                self.table.setItem(r, c, QTableWidgetItem(fn(row)))

    def cell(self, fact: str, side: int) -> str:
        names = [name for name, _ in FACT_ROWS]
        item = self.table.item(names.index(fact), side - 1)
        return item.text() if item is not None else ""
