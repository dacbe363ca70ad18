"""The first LTX-Video deployment offered is one that runs on this machine: the default (fal) with its key, else the
first with a key, a ComfyUI server that answers, or a GPU the check found; with none, the user is told what to do
(and that Animatic renders meanwhile), and nothing is written for them."""
from __future__ import annotations

import socket

from PySide6.QtWidgets import QComboBox

from core.config import Settings
from tests.gui.conftest import make_project
from tests.gui.helpers import choose, widget

NO_SERVER = "http://127.0.0.1:9"  # the discard port: nothing listens there


def _settings(comfyui_url: str = NO_SERVER) -> Settings:
    return Settings(autosave_interval_s=0, confirm_cost_above=100.0, comfyui_url=comfyui_url)


def _switch_to_ltx(qtbot, window) -> None:
    choose(widget(window, QComboBox, "providerCombo"), "ltx-video")
    group = window.video_tab.render_group
    qtbot.waitUntil(lambda: not group._checking_device, timeout=120_000)  # the GPU check (a child process)


def test_the_default_deployment_stays_unset_where_it_runs(open_window, tmp_path, qtbot, monkeypatch):
    monkeypatch.setenv("FAL_KEY", "fal-test-key-123456")
    window = open_window(make_project(tmp_path / "p", ["a"]).folder, _settings())
    _switch_to_ltx(qtbot, window)
    assert window.session.project.render.deployment is None
    assert widget(window, QComboBox, "deploymentCombo").currentText() == "Default (Fal API)"


def test_a_key_for_another_deployment_makes_it_the_first_offered(open_window, tmp_path, qtbot, monkeypatch):
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_test_token_123456")
    window = open_window(make_project(tmp_path / "p", ["a"]).folder, _settings())
    _switch_to_ltx(qtbot, window)
    assert window.session.project.render.deployment == "replicate"
    assert widget(window, QComboBox, "deploymentCombo").currentData() == "replicate"
    assert "Fal API cannot run here" in window.video_tab.console.visible_text()
    choose(widget(window, QComboBox, "providerCombo"), "animatic")
    assert window.session.project.render.deployment is None  # switching away and back restores exactly
    choose(widget(window, QComboBox, "providerCombo"), "ltx-video")
    assert window.session.project.render.deployment == "replicate"


def test_a_comfyui_server_that_answers_is_offered(open_window, tmp_path, qtbot):
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        window = open_window(make_project(tmp_path / "p", ["a"]).folder, _settings(url))
        _switch_to_ltx(qtbot, window)
        # chosen at once: the GPU check answers later, and a local GPU only takes over where nothing else runs
        assert window.session.project.render.deployment == "comfyui"
    finally:
        listener.close()


def test_no_runnable_deployment_says_what_to_do(open_window, tmp_path, qtbot):
    window = open_window(make_project(tmp_path / "p", ["a"]).folder, _settings())
    _switch_to_ltx(qtbot, window)
    info = window.video_tab.info
    if info._local_device()[0] is not None:  # a machine with a GPU renders locally
        assert window.session.project.render.deployment == "local"
        return
    assert window.session.project.render.deployment is None
    console = window.video_tab.console.visible_text()
    assert "No LTX-Video deployment can run on this machine yet" in console and "Animatic" in console
    assert info.runnable_deployment() is None
