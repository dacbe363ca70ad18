"""A dialog to edit the export's timed text overlays (core.video.export.TextOverlay); each row is validated by the
model when OK is pressed, and a bad row is named instead of being dropped."""
from __future__ import annotations

from typing import Optional

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from core.video.export import TEXT_POSITIONS, TextOverlay

HEADERS = ("Text", "Start (s)", "End (s)", "Position", "Size", "Colour")


class TextOverlaysDialog(QDialog):
    def __init__(self, overlays: list[TextOverlay], parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setWindowTitle("Text overlays")
        self.table = QTableWidget(0, len(HEADERS), objectName="textOverlaysTable")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 260)
        for o in overlays:
            self._add_row(o)
        add = QPushButton("Add")
        remove = QPushButton("Remove")
        add.clicked.connect(lambda: self._add_row(TextOverlay(text="Title")))
        remove.clicked.connect(lambda: self.table.removeRow(self.table.currentRow()))
        self.error = QLabel("")
        self.error.setStyleSheet("color:#c62828")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"Positions: {', '.join(TEXT_POSITIONS)}"))
        lay.addWidget(self.table)
        lay.addLayout(row)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.resize(720, 360)
        self._result: list[TextOverlay] = list(overlays)

    def _add_row(self, o: TextOverlay) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        for c, value in enumerate((o.text, f"{o.start:g}", f"{o.end:g}", o.position, str(o.size), o.color)):
            self.table.setItem(r, c, QTableWidgetItem(value))

    def _accept(self) -> None:
        result = []
        for r in range(self.table.rowCount()):
            cells = [(self.table.item(r, c).text() if self.table.item(r, c) else "") for c in range(len(HEADERS))]
            try:
                result.append(TextOverlay(text=cells[0], start=float(cells[1] or 0), end=float(cells[2] or 0),
                                          position=cells[3] or "bottom", size=int(cells[4] or 48),
                                          color=cells[5] or "white"))
            except ValueError as exc:
                self.error.setText(f"Row {r + 1}: {exc}")
                return
        self._result = result
        self.accept()

    def overlays(self) -> list[TextOverlay]:
        return self._result
