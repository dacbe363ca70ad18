"""The status console: timestamped events of renders and exports, filtered by level. Every line passes through
core.secrets.redact, so a key that slipped into an error message is never shown."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from core.secrets import redact

LEVELS = ("debug", "info", "warning", "error")
MAX_ENTRIES = 5000


class StatusConsole(QWidget):
    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("statusConsole")
        self.entries: list[tuple[str, str, str]] = []  # (level, "HH:MM:SS", text)
        self.text = QPlainTextEdit(objectName="statusConsoleText")
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_ENTRIES)
        self.level = QComboBox(objectName="consoleLevelCombo")
        for level in LEVELS:
            self.level.addItem(level.capitalize(), level)
        self.level.setCurrentIndex(1)
        clear = QPushButton("Clear")
        top = QHBoxLayout()
        top.addWidget(QLabel("Status"))
        top.addStretch(1)
        top.addWidget(QLabel("Show:"))
        top.addWidget(self.level)
        top.addWidget(clear)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.text, 1)
        self.level.currentIndexChanged.connect(self._refilter)
        clear.clicked.connect(self.clear)

    def log(self, level: str, message: str, at: Optional[datetime] = None) -> None:
        level = level if level in LEVELS else "info"
        stamp = (at.astimezone() if at else datetime.now()).strftime("%H:%M:%S")
        entry = (level, stamp, redact(str(message)))
        self.entries.append(entry)
        if len(self.entries) > MAX_ENTRIES:
            del self.entries[: len(self.entries) - MAX_ENTRIES]
        if self._shown(level):
            self.text.appendPlainText(self._format(entry))

    def info(self, message: str) -> None:
        self.log("info", message)

    def warning(self, message: str) -> None:
        self.log("warning", message)

    def error(self, message: str) -> None:
        self.log("error", message)

    def _shown(self, level: str) -> bool:
        return LEVELS.index(level) >= LEVELS.index(self.level.currentData())

    @staticmethod
    def _format(entry: tuple[str, str, str]) -> str:
        level, stamp, text = entry
        return f"{stamp}  {level.upper():7} {text}"

    def _refilter(self) -> None:
        self.text.setPlainText("\n".join(self._format(e) for e in self.entries if self._shown(e[0])))

    def visible_text(self) -> str:
        return self.text.toPlainText()

    def clear(self) -> None:
        self.entries.clear()
        self.text.clear()
