"""The Services page: the cloud services' addresses (each with its IMAGEAI_*_URL override) and the FFmpeg binary.
The ComfyUI servers have a page of their own."""
from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QWidget

from core.config import ENV_OVERRIDES, Settings
from gui.settings.fields import browse_row, path_problem
from providers.ltx.comfyui_entries import url_problem

URL_LABELS = {"fal_url": "Fal address", "replicate_url": "Replicate address", "gemini_url": "Gemini address",
              "vertex_url": "Vertex AI address", "openai_url": "OpenAI address", "stability_url": "Stability address"}


class ServicesPage(QWidget):
    title = "Services"

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        form = QFormLayout(self)
        self.url_edits: dict[str, QLineEdit] = {}
        #: field -> the line saying the environment's address is used, for the fields it overrides
        self.env_notes: dict[str, QLabel] = {}
        for field, label in URL_LABELS.items():
            edit = QLineEdit(getattr(settings, field) or "", objectName=f"setting_{field}")
            env = ENV_OVERRIDES[field]
            value = os.environ.get(env)
            if value:  # the environment wins: show its address, and where it comes from
                edit.setPlaceholderText(value)
                edit.setToolTip(f"{env} is set: the app uses {value}; this field applies once it is unset")
            else:
                edit.setPlaceholderText("the service's own address")
                edit.setToolTip(f"The environment variable {env} overrides this")
            form.addRow(f"{label}:", edit)
            if value:
                note = QLabel(f"Uses {value} from the environment ({env} overrides this field)",
                              objectName=f"setting_{field}_env")
                note.setStyleSheet("color:#555")
                note.setTextInteractionFlags(Qt.TextSelectableByMouse)
                form.addRow("", note)
                self.env_notes[field] = note
            self.url_edits[field] = edit
        self.ffmpeg = QLineEdit(settings.ffmpeg_path or "", objectName="setting_ffmpeg_path")
        self.ffmpeg.setPlaceholderText("the FFmpeg that imageio-ffmpeg ships")
        form.addRow("FFmpeg:", browse_row(self.ffmpeg, self, "FFmpeg binary"))

    def problems(self) -> list[str]:
        out = []
        for field, edit in self.url_edits.items():
            text = edit.text().strip()
            bad = url_problem(text) if text else None
            if bad:
                out.append(f"{URL_LABELS[field]}: {bad}")
        bad = path_problem("FFmpeg", self.ffmpeg.text())
        return out + ([bad] if bad else [])

    def apply(self, data: dict) -> None:
        for field, edit in self.url_edits.items():
            data[field] = edit.text().strip() or None
        data["ffmpeg_path"] = self.ffmpeg.text().strip() or None
