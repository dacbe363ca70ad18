"""What one scene can have of its own: the transition into it (saved in project.json, used by the export), its own
provider (chosen in the table, undoable, used by the render); and the local LTX deployment's entry, which says which
device it would run on, found off the GUI thread."""
from __future__ import annotations

import importlib.util
import json
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox

from core.config import Settings
from core.video.render_settings import RenderSettings
from core.video.media import count_frames, probe
from gui.video import combo_utils
from gui.video.scene_table_model import COL
from tests.gui.conftest import PICKY, make_project, render_and_wait
from tests.gui.helpers import estimate


def _w(window, cls, name):
    widget = window.findChild(cls, name)
    assert widget is not None, name
    return widget


def _saved(store) -> dict:
    return json.loads((store.folder / "project.json").read_text())


def _choose(combo: QComboBox, data) -> None:
    index = combo.findData(data)
    assert index >= 0 and combo_utils.is_enabled(combo, index), (data, combo_utils.reason(combo, index))
    combo.setCurrentIndex(index)


def _set_length(spin: QDoubleSpinBox, seconds: float) -> None:
    assert spin.isEnabled()
    spin.setValue(seconds)
    spin.editingFinished.emit()


def test_transition_into_the_selected_scene_is_saved_and_shapes_the_export(open_window, tmp_path, qtbot):
    store = make_project(tmp_path / "p", ["A red fox in the snow", "A lighthouse at dusk", "A train on a bridge"])
    window = open_window(store.folder)
    tab = window.video_tab
    kind = _w(window, QComboBox, "boundaryTransitionCombo")
    length = _w(window, QDoubleSpinBox, "boundaryTransitionDurationSpin")
    ids = [s.id for s in window.session.project.scenes]

    tab.scenes.select_ids([])
    assert not kind.isEnabled() and "Select one scene" in kind.toolTip()
    tab.scenes.select_ids([ids[0]])
    assert not kind.isEnabled() and "first scene" in kind.toolTip()  # nothing comes before it
    tab.scenes.select_ids([ids[1]])
    assert kind.isEnabled() and kind.currentData() == "" and kind.currentText() == "Project default"
    assert not length.isEnabled()

    _choose(kind, "wipe")
    _set_length(length, 0.4)
    assert window.isWindowModified()
    assert window.save()
    assert _saved(store)["export"]["boundary_transitions"] == {ids[1]: {"kind": "wipe", "duration": 0.4}}
    # the choice follows the selection: scene 3 still uses the project default
    tab.scenes.select_ids([ids[2]])
    assert kind.currentData() == ""
    tab.scenes.select_ids([ids[1]])
    assert kind.currentData() == "wipe" and length.value() == pytest.approx(0.4)

    _choose(kind, "")  # Project default removes the key
    assert window.save()
    assert ids[1] not in _saved(store)["export"]["boundary_transitions"]
    assert not length.isEnabled()

    # export: a 0.5 s wipe into scene 2 (12 frames) and the project's 0.25 s fade into scene 3 (6 frames)
    _choose(kind, "wipe")
    _set_length(length, 0.5)
    _choose(_w(window, QComboBox, "transitionCombo"), "fade")
    _set_length(_w(window, QDoubleSpinBox, "transitionDurationSpin"), 0.25)
    export = window.session.project.export
    assert export.transition_before(ids[1]).kind == "wipe" and export.transition_before(ids[2]).kind == "fade"
    tab.scenes.select_ids([])  # Generate renders the selected scenes, or all
    summary = render_and_wait(qtbot, window)
    assert sorted(summary.done) == sorted(ids), summary
    clips = [store.resolve(s.selected_take.clip_path) for s in window.session.project.scenes]
    with qtbot.waitSignal(tab.export_group.export_finished, timeout=120_000) as blocker:
        qtbot.mouseClick(tab.export_group.export_button, Qt.LeftButton)
    result = blocker.args[0]
    assert not isinstance(result, BaseException), result
    frames = sum(count_frames(c) for c in clips)
    assert count_frames(result.output_path) == frames - 12 - 6
    total = sum(probe(c).duration for c in clips)
    assert probe(result.output_path).duration == pytest.approx(total - 0.5 - 0.25, abs=0.05)


def test_a_scene_gets_its_own_provider_in_the_table(open_window, tmp_path, qtbot, monkeypatch):
    monkeypatch.setenv("IMAGEAI_PROVIDER_PLUGINS", PICKY)
    store = make_project(tmp_path / "p", ["A calm sea", "A quiet forest"], provider="picky")
    window = open_window(store.folder)
    tab = window.video_tab
    table, model = tab.scenes.table, tab.scene_model
    index = model.index(0, COL["Provider"])
    assert model.flags(index) & Qt.ItemIsEditable
    assert model.data(index) == "picky"

    table.setCurrentIndex(index)
    table.edit(index)
    editor = table.viewport().findChild(QComboBox, "sceneProviderCombo")
    assert editor is not None
    assert editor.currentData() == ""
    assert editor.currentText() == f"Project default ({tab.info.status('picky').display_name})"
    statuses = tab.info.statuses()
    for status in statuses:
        i = editor.findData(status.name)
        assert i >= 0 and combo_utils.is_enabled(editor, i) == status.available
        if not status.available:  # e.g. Veo without its SDK or key: disabled, the reason as tooltip
            assert combo_utils.reason(editor, i) == (status.reason or "unavailable")
    assert any(not s.available for s in statuses)
    i = editor.findData("animatic")
    editor.setCurrentIndex(i)
    editor.activated.emit(i)  # what a click on the entry sends: the choice is committed at once
    scene = window.session.project.scenes[0]
    assert scene.render.provider == "animatic" and scene.render.model is None
    assert model.data(index) == "animatic" and "own provider" in model.data(index, Qt.ToolTipRole)
    assert window.session.project.scenes[1].render.is_empty()
    assert window.save()
    doc = _saved(store)
    assert doc["scenes"][0]["render"]["provider"] == "animatic" and doc["render"]["provider"] == "picky"
    assert RenderSettings.model_validate(doc["scenes"][1]["render"]).is_empty()

    # Edit > Undo restores the project default; Redo brings the scene's own provider back
    assert "provider" in window.undo_action.text()
    window.undo_action.trigger()
    assert window.session.project.scenes[0].render.is_empty() and model.data(index) == "picky"
    window.redo_action.trigger()
    assert window.session.project.scenes[0].render.provider == "animatic"

    # the estimate of Generate (no selection: all scenes) shows each scene's cost and the plan's notes in the table
    tab.scenes.select_ids([])
    estimate(qtbot, window)
    assert model.data(model.index(0, COL["Cost"])) == "~$0.00"
    assert model.data(model.index(1, COL["Cost"])) == "~$0.25"  # 1 s x $0.25/s by the project's provider
    assert "scene 2: picky-1, renders 1 s, $0.25" in model.data(model.index(1, COL["Cost"]), Qt.ToolTipRole)

    # the render uses the scene's own provider: scene 1 by Animatic (free), scene 2 by the project's provider
    summary = render_and_wait(qtbot, window)
    assert len(summary.done) == 2, summary
    takes = [s.selected_take for s in window.session.project.scenes]
    assert [t.provider for t in takes] == ["animatic", "picky"]
    assert takes[0].cost == 0 and takes[1].cost > 0

    # "Project default" clears the scene's own settings (nothing else was set: none at all)
    assert model.setData(index, "", Qt.EditRole)
    assert window.session.project.scenes[0].render.is_empty()


needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None or
                                 importlib.util.find_spec("diffusers") is None,
                                 reason="the local deployment needs torch and diffusers")


@needs_torch
@pytest.mark.parametrize("device", [None, "cpu"])
def test_local_deployment_says_which_device_it_runs_on(open_window, tmp_path, qtbot, monkeypatch, device):
    from providers.ltx import local_device

    monkeypatch.setenv("FAL_KEY", "fal-test-key-123456")
    threads = []
    real = local_device.detect_cached
    monkeypatch.setattr(local_device, "detect_cached", lambda: threads.append(threading.current_thread()) or real())
    settings = Settings(autosave_interval_s=0, confirm_cost_above=100.0, ltx_local_device=device)
    store = make_project(tmp_path / "p", ["a"])
    window = open_window(store.folder, settings)
    group = window.video_tab.render_group
    with qtbot.waitSignal(group.local_device_checked, timeout=120_000):
        _choose(_w(window, QComboBox, "providerCombo"), "ltx-video")
    # the check imports torch: in a child process, never in the app (on a thread it stalls the window too)
    assert threads == [] and group.info.local_device_known()
    combo = _w(window, QComboBox, "deploymentCombo")
    i = combo.findData("local")
    gpu = real().kind in ("cuda", "mps")
    if device == "cpu":
        assert combo.itemText(i) == "Local (CPU, very slow)" and combo_utils.is_enabled(combo, i)
    elif gpu:
        assert combo.itemText(i) == "Local GPU" and combo_utils.is_enabled(combo, i)
    else:
        assert not combo_utils.is_enabled(combo, i) and combo.itemText(i) == "Local GPU (unavailable)"
        why = combo_utils.reason(combo, i)
        assert "no GPU" in why and 'ltx_local_device = "cpu"' in why  # what is missing and how to choose the CPU
    assert window.session.project.render.provider == "ltx-video"
    assert window.session.project.render.deployment is None  # the check chose nothing for the user
