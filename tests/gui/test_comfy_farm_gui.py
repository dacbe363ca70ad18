"""The ComfyUI farm in the window: a project of five scenes on the comfyui deployment renders over three fake servers,
one of which stops answering as its first prompt starts. Every scene finishes elsewhere, the status console says
which server went down and where each scene moved, the Servers tab's row for it says DOWN and why, and once it
answers again a check shows it up and removes the prompts that moved away from it (none runs twice)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.config import Settings
from core.video.project import Scene
from gui.video.comfy_servers_panel import COLUMNS, ComfyServersPanel
from tests.fakes.comfyui_helpers import project
from tests.gui.conftest import render_and_wait

pytestmark = pytest.mark.timeout(240)
SHOTS = os.environ.get("IMAGEAI_SHOTS")


def row(panel: ComfyServersPanel, server_id: str) -> dict[str, str]:
    for r in range(panel.table.rowCount()):
        if panel.table.item(r, 0).text() == server_id:
            return {name: panel.table.item(r, c).text() for c, name in enumerate(COLUMNS)}
    raise AssertionError(f"no row for {server_id}")


def test_a_server_down_mid_render_is_shown_and_loses_no_scene(qtbot, open_window, farm, tmp_path):
    down = farm["b"]
    down.freeze_at_start = 1  # it stops answering as its first prompt starts
    store = project(tmp_path, [Scene(title=f"Scene {i + 1}", prompt=f"scene {i}") for i in range(5)])
    settings = Settings(autosave_interval_s=0, confirm_cost_above=100.0, poll_interval_s=0.05,
                        comfyui_servers={k: s.url for k, s in farm.items()}, render_concurrency={"comfyui": 6},
                        render_retries=0, render_timeout_s=90)  # no retry is needed to move a scene
    window = open_window(store.folder, settings)
    tab = window.video_tab
    panel = tab.servers
    tabs = tab.bottom_tabs
    assert tabs.isTabVisible(tabs.indexOf(panel)) and tabs.tabText(tabs.indexOf(panel)) == "Servers"
    tabs.setCurrentWidget(panel)
    assert [row(panel, k)["Address"] for k in "abc"] == [s.url for s in farm.values()]

    summary = render_and_wait(qtbot, window)
    assert len(summary.done) == 5 and not summary.failed, summary

    # the console names the server that went down and where each of its scenes went
    lines = [line for line in tab.console.visible_text().splitlines() if "went down" in line]
    assert lines and len(lines) == len(down.received), lines
    assert all("ComfyUI server b went down (3 polls unanswered): this scene moved to " in line for line in lines)
    assert all(line.split()[-1] in ("a", "c") for line in lines)
    # its row says so (and why), within the panel's one-second refresh; the tab's title counts it
    qtbot.waitUntil(lambda: row(panel, "b")["State"] == "DOWN", timeout=10_000)
    why = row(panel, "b")["Why"]
    assert "3 polls unanswered" in why or "not reachable" in why, why  # a re-check says it does not connect
    assert tabs.tabText(tabs.indexOf(panel)) == "Servers (1 down)"
    panel.refresh()  # the farm's counts as of now (the timer's last refresh may predate the last scene)
    assert row(panel, "a")["State"] == row(panel, "c")["State"] == "up"
    assert int(row(panel, "a")["Done"]) + int(row(panel, "c")["Done"]) == 5 and row(panel, "b")["Done"] == "0"
    if SHOTS:
        window.grab().save(str(Path(SHOTS) / "comfy_farm_down.png"))

    # it answers again (its execution still held): a check shows it up and removes the prompts that moved away
    qtbot.waitUntil(lambda: panel.check_button.isEnabled(), timeout=30_000)  # a re-check in flight ends first
    down.thaw(run=False)
    panel.check_button.click()
    qtbot.waitUntil(lambda: panel.check_button.isEnabled() and row(panel, "b")["State"] == "up", timeout=30_000)
    assert row(panel, "b")["Why"] == "" and tabs.tabText(tabs.indexOf(panel)) == "Servers"
    moved = {p["prompt_id"] for p in down.received}
    assert down.call(lambda: [p[1] for p in down.pending]) == []
    assert set(down.deleted) | {i for i in down.interrupts if i} == moved
    down.run_again()
    assert not down.completions


def test_the_servers_tab_shows_for_a_farm_or_a_project_on_comfyui(qtbot, open_window, tmp_path):
    from core.video.render_settings import RenderSettings
    from gui.video.comfy_servers_panel import servers_wanted
    from tests.gui.conftest import make_project

    window = open_window(make_project(tmp_path / "plain", ["a kite"]).folder)  # Animatic, the default one server
    tabs = window.video_tab.bottom_tabs
    assert not tabs.isTabVisible(tabs.indexOf(window.video_tab.servers))
    project = window.session.project
    assert not servers_wanted(Settings(), project)
    assert servers_wanted(Settings(comfyui_servers={"a": "http://127.0.0.1:9"}), project)
    assert servers_wanted(Settings(comfyui_url="http://127.0.0.1:9,http://127.0.0.1:10"), None)
    project.scenes[0].render = RenderSettings(provider="ltx-video", deployment="comfyui")  # one scene on ComfyUI
    assert servers_wanted(Settings(), project)
