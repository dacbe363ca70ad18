"""The API keys page. Keys are stored through core.secrets (the OS keyring, or a 0600 file); a stored key is never
shown: the page only says where it comes from."""
from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from core import secrets

KEY_LABELS = {"fal": "Fal", "replicate": "Replicate", "google": "Google (Gemini / Veo)", "openai": "OpenAI",
              "stability": "Stability AI"}


class KeysPage(QWidget):
    title = "API keys"

    def __init__(self) -> None:
        super().__init__()
        self.key_edits: dict[str, QLineEdit] = {}
        self.key_states: dict[str, QLabel] = {}
        self._cleared: set[str] = set()
        form = QFormLayout(self)
        note = QLabel("Keys are kept in the system keyring (or a private file when there is none), never in "
                      "projects or logs. Leave a field empty to keep the stored key.")
        note.setWordWrap(True)
        form.addRow(note)
        for service, label in KEY_LABELS.items():
            edit = QLineEdit(objectName=f"key_{service}")
            edit.setEchoMode(QLineEdit.Password)
            edit.setPlaceholderText("paste a new key")
            state = QLabel(self._key_state(service))
            clear = QPushButton("Forget")
            clear.clicked.connect(lambda _=False, s=service: self._forget(s))
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(state)
            row.addWidget(clear)
            form.addRow(f"{label}:", row)
            self.key_edits[service] = edit
            self.key_states[service] = state

    @staticmethod
    def _key_state(service: str) -> str:
        source = secrets.key_source(service)
        return f"set ({source})" if source else "not set"

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
