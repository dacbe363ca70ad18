"""The ComfyUI servers panel against fake servers: "Check now" asks each one on the app's loop and shows which
answers and which is down (and why); the rows follow the farm's work in memory (prompts each server finished)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.config import Settings
from core.video.project import Scene
from gui.async_runner import AsyncRunner
from gui.video.comfy_servers_panel import COLUMNS, ComfyServersPanel
from tests.fakes.comfyui_fake import FakeComfyUI
from tests.fakes.comfyui_helpers import project, run_queue

pytestmark = pytest.mark.timeout(120)
SHOTS = os.environ.get("IMAGEAI_SHOTS")


def cell(panel: ComfyServersPanel, row: int, name: str) -> str:
    return panel.table.item(row, COLUMNS.index(name)).text()


def test_the_panel_shows_each_servers_state_and_work(qtbot, tmp_path):
    up, gone = FakeComfyUI().start(), FakeComfyUI().start()
    gone.stop()
    runner = AsyncRunner()
    try:
        settings = Settings(comfyui_servers={"studio": up.url, "spare": gone.url}, poll_interval_s=0.05,
                            comfyui_server_weights={"studio": 2.0})
        run_queue(project(tmp_path, [Scene(prompt=f"scene {i}") for i in range(2)]),
                  Settings(comfyui_servers={"studio": up.url}, poll_interval_s=0.05))
        panel = ComfyServersPanel(settings, runner)
        qtbot.addWidget(panel)
        panel.resize(1280, 800)
        panel.show()
        assert [cell(panel, r, "Server") for r in range(2)] == ["studio", "spare"]
        assert cell(panel, 0, "Done") == "2" and cell(panel, 0, "Weight") == "2"
        panel.check_button.click()
        qtbot.waitUntil(lambda: panel.check_button.isEnabled(), timeout=30000)
        assert panel.status.text() == "1 of 2 answer; down: spare"
        assert cell(panel, 0, "State") == "up" and cell(panel, 0, "Queue") == "0"
        assert cell(panel, 0, "Device") == "cpu"
        assert cell(panel, 0, "Checkpoints") == "ltx-video-2b-v0.9.5.safetensors (+1)"
        assert "ltxv-13b-0.9.8-distilled.safetensors" in panel.table.item(0, COLUMNS.index("Checkpoints")).toolTip()
        assert cell(panel, 1, "State") == "DOWN" and "not reachable" in panel.table.item(1, COLUMNS.index("State")).toolTip()
        assert "not reachable" in cell(panel, 1, "Why")
        if SHOTS:
            panel.grab().save(str(Path(SHOTS) / "comfy_servers_panel.png"))
    finally:
        runner.stop()
        up.stop()
