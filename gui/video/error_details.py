"""The details of an error, one click away from its one-sentence summary: the full text (FFmpeg's own lines
included), selectable, with a button that copies it."""
from __future__ import annotations

from typing import Optional

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget


class ErrorDetailsDialog(QDialog):
    def __init__(self, title: str, sentence: str, details: str, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("errorDetailsDialog")
        self.setWindowTitle(title)
        summary = QLabel(sentence, objectName="errorSentence")
        summary.setWordWrap(True)
        self.details = QPlainTextEdit(details, objectName="errorDetails", readOnly=True)
        self.details.setLineWrapMode(QPlainTextEdit.WidgetWidth)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        copy = QPushButton("Copy details", objectName="copyErrorDetails")
        buttons.addButton(copy, QDialogButtonBox.ActionRole)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(details))
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(summary)
        lay.addWidget(self.details, 1)
        lay.addWidget(buttons)
        self.resize(640, 300)
