"""The ComfyUI page: the servers (id, address, capacity weight), each with a Test that asks the server on the app's
asyncio loop thread (providers/ltx/comfyui_connect_check.py) and shows whether it answers, its version and devices,
and the nodes and model files the templates need that it lacks."""
from __future__ import annotations

import itertools
import os
from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QDoubleSpinBox, QHBoxLayout, QHeaderView, QLabel, QPlainTextEdit,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from core.config import Settings
from gui.async_runner import AsyncRunner
from providers.ltx.comfyui_entries import saved_servers, server_problems
from providers.ltx.comfyui_servers import ComfyServer, default_id, normal_url

ID, URL, WEIGHT, STATE = range(4)
ENV = "IMAGEAI_COMFYUI_URL"


class ComfyUIPage(QWidget):
    title = "ComfyUI"
    tested = Signal(object)           # a ServerReport (providers/ltx/comfyui_connect_check.py), once it is shown
    _reported = Signal(int, object)   # (row token, ServerReport or error text), from the loop thread

    def __init__(self, settings: Settings, runner: AsyncRunner) -> None:
        super().__init__()
        self.settings = settings
        self.runner = runner
        self.reports: dict = {}  # ComfyServer -> its latest ServerReport
        self._tokens = itertools.count(1)
        self._reported.connect(self._on_reported)
        lay = QVBoxLayout(self)
        note = QLabel("Scenes rendered on ComfyUI go to these servers. A take names its server by id (prompt@id), "
                      "so keep the id when an address changes. Weight: the server's capacity against the others "
                      "(2 = twice as fast).")
        note.setWordWrap(True)
        lay.addWidget(note)
        if os.environ.get(ENV):
            env = QLabel(f"The environment variable {ENV} is set: it replaces these servers while it is.")
            env.setStyleSheet("color:#b26a00")
            env.setWordWrap(True)
            lay.addWidget(env)
        self.table = QTableWidget(0, 4, objectName="comfyui_servers")
        self.table.setHorizontalHeaderLabels(["Id", "Address", "Weight", "State"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(URL, QHeaderView.Stretch)
        for col in (ID, WEIGHT, STATE):
            header.setSectionResizeMode(col, QHeaderView.ResizeToContents)
        self.table.verticalHeader().setVisible(False)
        lay.addWidget(self.table, 1)
        weights = settings.comfyui_server_weights
        for sid, url in saved_servers(settings):
            self.add_server(sid, url, weights.get(sid, 1.0))
        buttons = QHBoxLayout()
        for label, slot, name in (("Add server", lambda: self.add_server(), "comfyui_add"),
                                  ("Remove", self._remove_selected, "comfyui_remove"),
                                  ("Test selected", self._test_selected, "comfyui_test_selected"),
                                  ("Test all", self.test_all, "comfyui_test_all")):
            button = QPushButton(label, objectName=name)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        self.report = QPlainTextEdit(objectName="comfyui_report", readOnly=True)
        self.report.setPlaceholderText("Test a server: whether it answers, its ComfyUI version and devices, and the "
                                       "nodes and model files the LTX templates need that it lacks.")
        lay.addWidget(self.report, 2)

    # --- rows ----------------------------------------------------------------------------------------------------
    def add_server(self, sid: str = "", url: str = "", weight: float = 1.0) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        item = QTableWidgetItem(sid)
        item.setData(Qt.UserRole, next(self._tokens))
        item.setToolTip("empty: the address's host:port")
        self.table.setItem(row, ID, item)
        self.table.setItem(row, URL, QTableWidgetItem(url))
        spin = QDoubleSpinBox(minimum=0.1, maximum=100.0, decimals=1, singleStep=0.5)
        spin.setValue(weight)
        self.table.setCellWidget(row, WEIGHT, spin)
        state = QTableWidgetItem("not tested")
        state.setFlags(state.flags() & ~Qt.ItemIsEditable)
        self.table.setItem(row, STATE, state)
        return row

    def _remove_selected(self) -> None:
        for row in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(row)

    def rows(self) -> list[tuple[str, str, float]]:
        """(id as typed, address as typed, weight) per row."""
        return [(self._text(r, ID), self._text(r, URL), self.table.cellWidget(r, WEIGHT).value())
                for r in range(self.table.rowCount())]

    def _text(self, row: int, col: int) -> str:
        item = self.table.item(row, col)
        return item.text().strip() if item else ""

    def _server(self, row: int) -> Optional[ComfyServer]:
        """The row's server, or None while its entry is not usable."""
        sid, url = self._text(row, ID), self._text(row, URL)
        if server_problems([(sid, url)]):
            return None
        url = normal_url(url)
        return ComfyServer(sid or default_id(url), url)

    # --- testing -------------------------------------------------------------------------------------------------
    def test_all(self) -> None:
        self.test_rows(range(self.table.rowCount()))

    def _test_selected(self) -> None:
        self.test_rows(sorted({i.row() for i in self.table.selectedIndexes()}))

    def test_rows(self, rows) -> None:
        for row in rows:
            bad = server_problems([(self._text(row, ID), self._text(row, URL))])
            if bad:
                self._set_state(row, "not testable", bad[0].split(": ", 1)[-1])
                continue
            token = self.table.item(row, ID).data(Qt.UserRole)
            server = self._server(row)
            self.reports.pop(server, None)
            self._set_state(row, "testing…")
            future = self.runner.submit(_check(server, self.settings))
            future.add_done_callback(lambda f, t=token, s=server: self._done(t, s, f))
        self._show_reports()

    def _done(self, token: int, server: ComfyServer, future) -> None:
        """On the loop thread: hand the answer to the GUI thread."""
        try:
            result = future.result()
        except Exception as exc:  # a bug in the check must still end the row's "testing…"
            from providers.ltx.comfyui_connect_check import ServerReport

            result = ServerReport(server, error=f"the test failed: {type(exc).__name__}: {exc}")
        try:
            self._reported.emit(token, result)
        except RuntimeError:  # the dialog closed before the server answered
            pass

    def _on_reported(self, token: int, report) -> None:
        row = self._row_of(token)
        if row is None or self._server(row) != report.server:
            return  # the row was removed or edited while the server was asked
        self.reports[report.server] = report
        if not report.reachable:
            state = "not reachable"
        else:
            state = "ready" if report.ok else "not ready"
        self._set_state(row, state, "\n".join(report.lines()))
        self._show_reports()
        self.tested.emit(report)

    def _show_reports(self) -> None:
        """The reports in the table's order (they arrive in the order the servers answer)."""
        parts = []
        for row in range(self.table.rowCount()):
            state = self.table.item(row, STATE)
            if state.text() == "not testable":
                parts.append(f"row {row + 1}: not testable: {state.toolTip()}")
            elif (server := self._server(row)) in self.reports:
                parts.append("\n".join(self.reports[server].lines()))
        self.report.setPlainText("\n\n".join(parts))

    def _row_of(self, token: int) -> Optional[int]:
        for row in range(self.table.rowCount()):
            if self.table.item(row, ID).data(Qt.UserRole) == token:
                return row
        return None

    def _set_state(self, row: int, text: str, tip: str = "") -> None:
        item = self.table.item(row, STATE)
        item.setText(text)
        item.setToolTip(tip)
        colour = {"ready": "#2e7d32", "not reachable": "#c62828", "not ready": "#b26a00",
                  "not testable": "#b26a00"}.get(text, "")
        item.setForeground(QBrush(QColor(colour)) if colour else QBrush())

    # --- the page's values ---------------------------------------------------------------------------------------
    def problems(self) -> list[str]:
        return server_problems([(sid, url) for sid, url, _ in self.rows()])

    def apply(self, data: dict) -> None:
        servers: dict[str, str] = {}
        weights: dict[str, float] = {}
        for sid, url, weight in self.rows():
            url = normal_url(url)
            sid = sid or default_id(url)
            servers[sid] = url
            if weight != 1.0:
                weights[sid] = weight
        data["comfyui_servers"] = servers
        data["comfyui_server_weights"] = weights
        # the same list in comfyui_url, so both settings name the same servers
        data["comfyui_url"] = ",".join(url if sid == default_id(url) else f"{sid}={url}"
                                       for sid, url in servers.items()) or None


async def _check(server: ComfyServer, settings: Settings):
    """On the loop thread: the check's module loads aiohttp and the backend, which the GUI thread need not wait for."""
    from providers.ltx.comfyui_connect_check import check_server

    return await check_server(server, settings)
