"""The ComfyUI servers of a farm while scenes render: each server's state (up, down and why, not asked yet), its
queue, this app's prompts running and waiting there, the prompts it finished, its measured seconds per prompt, its
capacity weight and device. The rows follow the farm's state in memory every second (no network); "Check now"
asks every server (/system_stats, /queue) on the app's asyncio loop (providers/ltx/comfyui_probe.py)."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from core.config import Settings
from core.errors import ImageAIError
from gui.async_runner import AsyncRunner
from providers.ltx.comfyui_farm import FARM, ServerView
from providers.ltx.comfyui_probe import probe_all, weight_of
from providers.ltx.comfyui_servers import configured_servers

COLUMNS = ("Server", "Address", "State", "Queue", "Running", "Waiting", "Done", "s/prompt", "Weight", "Device",
           "Checkpoints", "Why")
DOWN = QColor(255, 214, 214)


class ComfyServersPanel(QWidget):
    _checked = Signal(object)  # a list of ServerView, or an error text, from the loop thread

    def __init__(self, settings: Settings, runner: AsyncRunner, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("comfyServersPanel")
        self.settings = settings
        self.runner = runner
        self.table = QTableWidget(0, len(COLUMNS), objectName="comfyServersTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.status = QLabel("", objectName="comfyServersStatus")
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.check_button = QPushButton("Check now", objectName="comfyServersCheck")
        top = QHBoxLayout()
        top.addWidget(QLabel("ComfyUI servers"))
        top.addWidget(self.status, 1)
        top.addWidget(self.check_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        self.check_button.clicked.connect(self.check_now)
        self._checked.connect(self._on_checked)
        self.timer = QTimer(self, interval=1000)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh()

    def set_settings(self, settings: Settings) -> None:
        self.settings = settings
        self.refresh()

    def views(self) -> list[ServerView]:
        try:
            servers = configured_servers(self.settings)
        except ImageAIError as exc:
            self.status.setText(str(exc))
            return []
        for s in servers:
            FARM.server(s, weight_of(self.settings, s))
        return FARM.snapshot(servers)

    def refresh(self) -> None:
        """The farm's state as this process knows it (cheap: no request)."""
        self.show_views(self.views())

    def check_now(self) -> None:
        self.check_button.setEnabled(False)
        self.status.setText("asking the servers...")
        future = self.runner.submit(probe_all(self.settings))

        def done(f) -> None:
            try:
                self._checked.emit(f.result())
            except Exception as exc:  # shown, never raised on the loop thread
                self._checked.emit(f"check failed: {exc}")
        future.add_done_callback(done)

    def _on_checked(self, result) -> None:
        self.check_button.setEnabled(True)
        if isinstance(result, str):
            self.status.setText(result)
            return
        down = [v.id for v in result if v.state == "down"]
        self.status.setText(f"{len(result) - len(down)} of {len(result)} answer" + (
            f"; down: {', '.join(down)}" if down else ""))
        self.show_views(result)

    def show_views(self, views: list[ServerView]) -> None:
        self.table.setRowCount(len(views))
        for row, v in enumerate(views):
            state = {"up": "up", "down": "DOWN", "unknown": "not asked yet"}.get(v.state, v.state)
            cells = (v.id, v.url, state, "" if v.queue is None else str(v.queue), str(v.running), str(v.waiting),
                     str(v.done), "" if v.seconds_per_prompt is None else f"{v.seconds_per_prompt:.1f}",
                     f"{v.weight:g}", v.device, _models(v.models), v.reason if v.state == "down" else "")
            for col, text in enumerate(cells):
                item = self.table.item(row, col)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(row, col, item)
                item.setText(text)
                item.setToolTip(v.reason if v.state == "down" else "\n".join(v.models or []) if
                                COLUMNS[col] == "Checkpoints" else "")
                item.setBackground(QBrush(DOWN) if v.state == "down" else QBrush())


def _models(models: Optional[list[str]]) -> str:
    if models is None:
        return ""
    if not models:
        return "none"
    return models[0] + (f" (+{len(models) - 1})" if len(models) > 1 else "")
