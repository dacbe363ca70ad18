"""Small pieces the settings pages share: a line edit with a Browse button, and the check of an existing path."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLineEdit, QPushButton, QWidget


def browse_row(edit: QLineEdit, parent: QWidget, title: str, *, folder: bool = False,
               filters: str = "") -> QHBoxLayout:
    """`edit` with a Browse… button that fills it from a file (or folder) dialog."""
    button = QPushButton("Browse…")
    button.setObjectName(f"{edit.objectName()}_browse")

    def pick() -> None:
        start = edit.text().strip() or str(Path.home())
        if folder:
            path = QFileDialog.getExistingDirectory(parent, title, start)
        else:
            path, _ = QFileDialog.getOpenFileName(parent, title, start, filters)
        if path:
            edit.setText(path)
    button.clicked.connect(pick)
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(button)
    return row


def path_problem(label: str, text: str, *, folder: bool = False,
                 check: Optional[Callable[[Path], Optional[str]]] = None) -> Optional[str]:
    """Why a set path cannot be used (it does not exist, is of the wrong kind, fails `check`), or None."""
    if not text.strip():
        return None
    path = Path(text.strip()).expanduser()
    if not path.exists():
        return f"{label}: {text.strip()} does not exist"
    if folder and not path.is_dir():
        return f"{label}: {text.strip()} is not a folder"
    if not folder and not path.is_file():
        return f"{label}: {text.strip()} is not a file"
    return check(path) if check else None
