"""The API keys page. Keys are stored through core.secrets (the OS keyring, or a 0600 file); a stored key is never
shown: the page only says where it comes from."""
from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from core import secrets

#: where a key comes from (core.secrets.key_source), as the page says it
SOURCE_TEXT = {"argument": "set, given on the command line", "keyring": "set, in the system keyring",
               "file": "set, in the private key file"}
KEY_LABELS = {"fal": "Fal", "replicate": "Replicate", "google": "Google (Gemini / Veo)", "openai": "OpenAI",
              "stability": "Stability AI"}


class KeysPage(QWidget):
    title = "API keys"

    def __init__(self) -> None:
        super().__init__()
        self.key_edits: dict[str, QLineEdit] = {}
        self.key_states: dict[str, QLabel] = {}
        self._cleared: set[str] = set()
        lay = QVBoxLayout(self)
        note = QLabel("Keys are kept in the system keyring (or a private file when there is none), never in "
                      "projects or logs. Leave a field empty to keep the stored key.")
        note.setWordWrap(True)
        lay.addWidget(note)
        # a grid: every key field has the same width, whatever its state says
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        for row, (service, label) in enumerate(KEY_LABELS.items()):
            edit = QLineEdit(objectName=f"key_{service}")
            edit.setEchoMode(QLineEdit.Password)
            edit.setPlaceholderText("paste a new key")
            state = QLabel(self._key_state(service), objectName=f"key_{service}_state")
            clear = QPushButton("Forget")
            clear.clicked.connect(lambda _=False, s=service: self._forget(s))
            grid.addWidget(QLabel(f"{label}:"), row, 0)
            grid.addWidget(edit, row, 1)
            grid.addWidget(state, row, 2)
            grid.addWidget(clear, row, 3)
            self.key_edits[service] = edit
            self.key_states[service] = state
        lay.addLayout(grid)
        lay.addStretch(1)

    @staticmethod
    def _key_state(service: str) -> str:
        source = secrets.key_source(service)
        if not source:
            return "not set"
        if source.startswith("environment"):  # "environment (FAL_KEY)"
            return f"set, from the environment: {source.partition('(')[2].rstrip(')')}"
        return SOURCE_TEXT.get(source, f"set, {source}")

    def _forget(self, service: str) -> None:
        self._cleared.add(service)
        self.key_edits[service].clear()
        self.key_states[service].setText("will be removed")

    def problems(self) -> list[str]:
        return []

    def apply(self, data: dict) -> None:
        """Keys are not settings: apply_keys stores them."""

    def apply_keys(self) -> list[str]:
        """Store new keys and forget cleared ones; returns what changed (service names only, never values)."""
        changed = []
        for service in sorted(self._cleared):
            secrets.delete_key(service)
            changed.append(f"{service} removed")
        for service, edit in self.key_edits.items():
            value = edit.text().strip()
            if value:
                where = secrets.set_key(service, value)
                edit.clear()
                changed.append(f"{service} stored in the {where}")
        return changed
