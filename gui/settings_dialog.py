"""The Settings dialog: API keys (stored through core.secrets: the OS keyring, or a 0600 file), service addresses,
the FFmpeg path, render concurrency, the cost confirmation threshold and autosave. A stored key is never shown:
the dialog only says where it comes from."""
from __future__ import annotations

from typing import Optional

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QSpinBox, QTabWidget, QVBoxLayout, QWidget)

from core import secrets
from core.config import ENV_OVERRIDES, Settings

KEY_LABELS = {"fal": "Fal", "replicate": "Replicate", "google": "Google (Gemini / Veo)", "openai": "OpenAI",
              "stability": "Stability AI"}
URL_LABELS = {"fal_url": "Fal address", "replicate_url": "Replicate address", "gemini_url": "Gemini address",
              "vertex_url": "Vertex AI address", "comfyui_url": "ComfyUI server(s)"}


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings.model_copy(deep=True)
        self.key_edits: dict[str, QLineEdit] = {}
        self.key_states: dict[str, QLabel] = {}
        self._cleared: set[str] = set()
        tabs = QTabWidget()
        tabs.addTab(self._keys_tab(), "API keys")
        tabs.addTab(self._services_tab(), "Services")
        tabs.addTab(self._render_tab(), "Rendering")
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.error = QLabel("")
        self.error.setStyleSheet("color:#c62828")
        lay = QVBoxLayout(self)
        lay.addWidget(tabs)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.resize(620, 420)

    def _keys_tab(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        form.addRow(QLabel("Keys are kept in the system keyring (or a private file when there is none), never in "
                           "projects or logs. Leave a field empty to keep the stored key."))
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
        return w

    @staticmethod
    def _key_state(service: str) -> str:
        source = secrets.key_source(service)
        return f"set ({source})" if source else "not set"

    def _forget(self, service: str) -> None:
        self._cleared.add(service)
        self.key_edits[service].clear()
        self.key_states[service].setText("will be removed")

    def _services_tab(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.url_edits: dict[str, QLineEdit] = {}
        for field, label in URL_LABELS.items():
            edit = QLineEdit(getattr(self.settings, field) or "", objectName=f"setting_{field}")
            edit.setPlaceholderText("the service's own address")
            env = ENV_OVERRIDES[field]
            tip = f"Overridden by the environment variable {env}" if self.settings.effective(field) != getattr(
                self.settings, field) else f"The environment variable {env} overrides this"
            edit.setToolTip(tip)
            form.addRow(f"{label}:", edit)
            self.url_edits[field] = edit
        self.ffmpeg = QLineEdit(self.settings.ffmpeg_path or "", objectName="setting_ffmpeg_path")
        self.ffmpeg.setPlaceholderText("the FFmpeg that imageio-ffmpeg ships")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_ffmpeg)
        row = QHBoxLayout()
        row.addWidget(self.ffmpeg, 1)
        row.addWidget(browse)
        form.addRow("FFmpeg:", row)
        return w

    def _browse_ffmpeg(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "FFmpeg binary")
        if path:
            self.ffmpeg.setText(path)

    def _render_tab(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.concurrency: dict[str, QSpinBox] = {}
        for key, label in (("default", "Cloud renders at once"), ("local", "Local GPU renders at once"),
                           ("animatic", "Animatic renders at once")):
            spin = QSpinBox(objectName=f"concurrency_{key}", minimum=1, maximum=16)
            spin.setValue(self.settings.render_concurrency.get(key, self.settings.concurrency_for(key)))
            form.addRow(f"{label}:", spin)
            self.concurrency[key] = spin
        self.confirm = QDoubleSpinBox(objectName="setting_confirm_cost_above", maximum=10_000, prefix="$",
                                      decimals=2, singleStep=0.5)
        self.confirm.setValue(self.settings.confirm_cost_above)
        form.addRow("Ask before spending more than:", self.confirm)
        self.autosave = QSpinBox(objectName="setting_autosave_interval_s", maximum=3600, suffix=" s")
        self.autosave.setSpecialValueText("off")
        self.autosave.setValue(int(self.settings.autosave_interval_s))
        form.addRow("Autosave every:", self.autosave)
        self.lock_wait = QDoubleSpinBox(objectName="setting_project_lock_wait_s", maximum=600, decimals=0,
                                        suffix=" s")
        self.lock_wait.setValue(self.settings.project_lock_wait_s)
        self.lock_wait.setToolTip("How long a save or a render waits while another process (the CLI, another "
                                  "window) is saving or rendering the same project")
        form.addRow("Wait for another process up to:", self.lock_wait)
        return w

    def result_settings(self) -> Settings:
        """The edited settings (keys are written by apply_keys, not kept here)."""
        data = self.settings.model_dump()
        for field, edit in self.url_edits.items():
            data[field] = edit.text().strip() or None
        data["ffmpeg_path"] = self.ffmpeg.text().strip() or None
        data["render_concurrency"] = {**self.settings.render_concurrency,
                                      **{k: s.value() for k, s in self.concurrency.items()}}
        data["confirm_cost_above"] = self.confirm.value()
        data["autosave_interval_s"] = float(self.autosave.value())
        data["project_lock_wait_s"] = float(self.lock_wait.value())
        return Settings.model_validate(data)

    def apply_keys(self) -> list[str]:
        """Store new keys and forget cleared ones; returns what changed (service names only, never values)."""
        changed = []
        for service in self._cleared:
            secrets.delete_key(service)
            changed.append(f"{service} removed")
        for service, edit in self.key_edits.items():
            value = edit.text().strip()
            if value:
                where = secrets.set_key(service, value)
                edit.clear()
                changed.append(f"{service} stored in the {where}")
        return changed
