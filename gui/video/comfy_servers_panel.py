"""The ComfyUI servers of a farm while scenes render: each server's state (up, down and why, not asked yet), its
queue, this app's prompts running and waiting there, the prompts it finished, its measured seconds per prompt, its
capacity weight and device. The rows follow the farm's state in memory every second (no network); "Check now"
asks every server (/system_stats, /queue) on the app's asyncio loop (providers/ltx/comfyui_probe.py), and a server
that is down is asked again every RECHECK_S on its own, so one that came back shows as up (and the prompts that moved
away from it are removed there) without a click. The video tab shows the panel as its "Servers" tab when
`servers_wanted` says so."""
from __future__ import annotations

import asyncio
import time
from typing import Optional

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from core.config import Settings
from core.errors import ImageAIError
from core.video.project import VideoProject
from gui.async_runner import AsyncRunner
from providers.ltx.comfyui_farm import FARM, ServerView
from providers.ltx.comfyui_servers import configured_servers

# state and why first: a narrow bottom pane shows them without scrolling
COLUMNS = ("Server", "State", "Why", "Queue", "Running", "Waiting", "Done", "s/prompt", "Weight", "Device",
           "Checkpoints", "Address")
WHY_WIDTH = 220  # a reason is long (it names the address and the setting): in full in the tooltip
DOWN = QColor(255, 214, 214)
RECHECK_S = 10.0  # a down server is asked again this often (one request or two: /system_stats, /queue)


def servers_wanted(settings: Settings, project: Optional[VideoProject]) -> bool:
    """Whether the window shows the servers: several ComfyUI servers are configured (a farm), or the project or
    one of its scenes renders on ComfyUI."""
    if settings.comfyui_servers or settings.comfyui_server_count() > 1:
        return True
    if project is None:
        return False
    return project.render.deployment == "comfyui" or any(
        project.scene_settings(s).settings.deployment == "comfyui" for s in project.scenes)


class ComfyServersPanel(QWidget):
    _checked = Signal(object)  # a list of ServerView, or an error text, from the loop thread
    #: the servers or the number of down ones changed: the tab's title (title()) and whether it shows follow
    changed = Signal()

    def __init__(self, settings: Settings, runner: AsyncRunner, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("comfyServersPanel")
        self.settings = settings
        self.runner = runner
        self._shown: tuple[tuple[str, ...], int] = ((), 0)  # the servers' ids, how many are down (as last shown)
        self._checking = False
        self._last_check = time.monotonic()
        self.table = QTableWidget(0, len(COLUMNS), objectName="comfyServersTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COLUMNS.index("Why"), QHeaderView.ResizeMode.Interactive)
        header.resizeSection(COLUMNS.index("Why"), WHY_WIDTH)
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

    def views(self) -> list[ServerView]:
        try:
            servers = configured_servers(self.settings)
        except ImageAIError as exc:
            self.status.setText(str(exc))
            return []
        weights = self.settings.comfyui_server_weights or {}
        for s in servers:
            FARM.server(s, float(weights.get(s.id, 1.0)))  # as comfyui_probe.weight_of (not imported: aiohttp)
        return FARM.snapshot(servers)

    def title(self) -> str:
        down = self._shown[1]
        return f"Servers ({down} down)" if down else "Servers"

    def refresh(self) -> None:
        """The farm's state as this process knows it (cheap: no request); a down server asked again now and
        then."""
        views = self.views()
        self.show_views(views)
        if any(v.state == "down" for v in views) and not self._checking \
                and time.monotonic() - self._last_check >= RECHECK_S:
            self.check_now(only_down=True)

    def check_now(self, only_down: bool = False) -> None:
        """Ask every server (or only the down ones) on the app's loop; the rows follow when they answered."""
        if self._checking:
            return
        self._checking = True
        self._last_check = time.monotonic()
        self.check_button.setEnabled(False)
        self.status.setText("asking the servers..." if not only_down else "asking the down servers again...")
        future = self.runner.submit(_probe(self.settings, only_down))

        def done(f) -> None:
            try:
                result = f.result()
            except Exception as exc:  # shown, never raised on the loop thread
                result = f"check failed: {exc}"
            try:
                self._checked.emit(result)
            except RuntimeError:  # the window closed while the servers were asked
                pass
        future.add_done_callback(done)

    def _on_checked(self, result) -> None:
        self._checking = False
        self._last_check = time.monotonic()
        self.check_button.setEnabled(True)
        if isinstance(result, str):
            self.status.setText(result)
            return
        down = [v.id for v in result if v.state == "down"]
        self.status.setText(f"{len(result) - len(down)} of {len(result)} answer" + (
            f"; down: {', '.join(down)}" if down else ""))
        self.show_views(result)

    def show_views(self, views: list[ServerView]) -> None:
        shown = (tuple(v.id for v in views), sum(1 for v in views if v.state == "down"))
        if shown != self._shown:
            self._shown = shown
            self.changed.emit()
        self.table.setRowCount(len(views))
        for row, v in enumerate(views):
            state = {"up": "up", "down": "DOWN", "unknown": "not asked yet"}.get(v.state, v.state)
            cells = (v.id, state, v.reason if v.state == "down" else "", "" if v.queue is None else str(v.queue),
                     str(v.running), str(v.waiting), str(v.done),
                     "" if v.seconds_per_prompt is None else f"{v.seconds_per_prompt:.1f}", f"{v.weight:g}", v.device,
                     _models(v.models), v.url)
            for col, text in enumerate(cells):
                item = self.table.item(row, col)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(row, col, item)
                item.setText(text)
                item.setToolTip(v.reason if v.state == "down" else "\n".join(v.models or []) if
                                COLUMNS[col] == "Checkpoints" else "")
                item.setBackground(QBrush(DOWN) if v.state == "down" else QBrush())


async def _probe(settings: Settings, only_down: bool) -> list[ServerView]:
    """Every server asked (or only those marked down; the others as the farm knows them). The probe module loads
    aiohttp: imported here, on the loop thread, so the window starts without it."""
    from providers.ltx.comfyui_probe import probe, probe_all, weight_of

    if not only_down:
        return await probe_all(settings)
    servers = configured_servers(settings)
    down = {v.url for v in FARM.snapshot(servers) if v.state == "down"}
    await asyncio.gather(*(probe(s, weight_of(settings, s)) for s in servers if s.url in down))
    return FARM.snapshot(servers)


def _models(models: Optional[list[str]]) -> str:
    if models is None:
        return ""
    if not models:
        return "none"
    return models[0] + (f" (+{len(models) - 1})" if len(models) > 1 else "")
