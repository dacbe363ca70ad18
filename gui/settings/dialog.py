"""The Settings dialog: one tab per page (keys, services, ComfyUI servers, local GPU, rendering). OK checks every
page first and lists all problems at once; the dialog stays open until they are fixed."""
from __future__ import annotations

from typing import Optional

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTabWidget, QVBoxLayout, QWidget

from core.config import Settings
from gui.async_runner import AsyncRunner
from gui.settings.comfyui_page import ComfyUIPage
from gui.settings.keys_page import KeysPage
from gui.settings.local_page import LocalPage
from gui.settings.render_page import RenderPage
from gui.settings.services_page import ServicesPage


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: Optional[QWidget] = None, *,
                 runner: Optional[AsyncRunner] = None, device=None):
        """`device`: the window's GPU check's answer, if it has one (the Local GPU page shows it at once)."""
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings.model_copy(deep=True)
        # the server tests run on the app's loop thread; a dialog opened without the window gets a loop of its own
        self._own_runner = runner is None
        self.runner = runner or AsyncRunner("settings-tests")
        self.keys = KeysPage()
        self.services = ServicesPage(self.settings)
        self.comfyui = ComfyUIPage(self.settings, self.runner)
        self.local = LocalPage(self.settings, device)
        self.rendering = RenderPage(self.settings)
        self.pages = [self.keys, self.services, self.comfyui, self.local, self.rendering]
        self.tabs = QTabWidget()
        for page in self.pages:
            self.tabs.addTab(page, page.title)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.error = QLabel("", objectName="settings_problems")
        self.error.setStyleSheet("color:#c62828")
        self.error.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.tabs)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.resize(760, 560)

    # the widgets other code reaches (the main window's test, older callers)
    @property
    def key_edits(self):
        return self.keys.key_edits

    @property
    def url_edits(self):
        return self.services.url_edits

    @property
    def concurrency(self):
        return self.rendering.concurrency

    @property
    def confirm(self):
        return self.rendering.confirm

    @property
    def lock_wait(self):
        return self.rendering.lock_wait

    def problems(self) -> list[str]:
        """Every problem of every page, each once (page order)."""
        return [p for page in self.pages for p in page.problems()]

    def accept(self) -> None:
        found = self.problems()
        if found:
            self.error.setText("Not saved:\n" + "\n".join(f"• {p}" for p in found))
            first = next(page for page in self.pages if page.problems())
            self.tabs.setCurrentWidget(first)
            return
        self.error.clear()
        super().accept()

    def done(self, result: int) -> None:
        super().done(result)
        if self._own_runner:
            self.runner.stop()

    def result_settings(self) -> Settings:
        """The edited settings (keys are written by apply_keys, not kept here)."""
        data = self.settings.model_dump()
        for page in self.pages:
            page.apply(data)
        return Settings.model_validate(data)

    def apply_keys(self) -> list[str]:
        return self.keys.apply_keys()
