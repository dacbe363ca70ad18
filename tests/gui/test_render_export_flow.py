"""The whole path through the window: render scenes with Animatic, see statuses, thumbnails and clips appear, export,
find the file, close and reopen, and a typed render failure shown in the table and the console."""
from __future__ import annotations

import json

from PySide6.QtCore import Qt

from core.video.media import probe
from core.video.project_io import ProjectStore
from gui.video.scene_table_model import COL
from tests.gui.conftest import PICKY, make_project, render_and_wait
from tests.gui.helpers import estimate, generate_and_confirm

PROMPTS = ["A red fox in the snow", "A lighthouse at dusk", "A train crossing a bridge"]


def _cell(window, row: int, column: str, role=Qt.DisplayRole):
    model = window.video_tab.scene_model
    return model.data(model.index(row, COL[column]), role)


def test_render_three_scenes_then_export_and_reopen(open_window, tmp_path, qtbot):
    store = make_project(tmp_path / "proj", PROMPTS)
    window = open_window(store.folder)
    tab = window.video_tab
    assert [_cell(window, r, "Status") for r in range(3)] == ["not rendered"] * 3

    summary = render_and_wait(qtbot, window)
    assert sorted(summary.done) == sorted(s.id for s in window.session.project.scenes), summary

    for row in range(3):
        assert _cell(window, row, "Status").startswith("done")
        take = window.session.project.scenes[row].selected_take
        assert _cell(window, row, "Take") == f"Take 1 · {take.rendered_seconds:g} s"  # not the file hash
        assert f"clip {take.clip_path}" in _cell(window, row, "Take", Qt.ToolTipRole)
        assert take.clip_path.endswith(".mp4") and (store.folder / take.clip_path).is_file()
    # thumbnails are extracted from the clips on a worker thread and then shown in the table
    qtbot.waitUntil(lambda: all(_cell(window, r, "Thumbnail", Qt.DecorationRole) is not None for r in range(3)),
                    timeout=30_000)
    assert not _cell(window, 0, "Thumbnail", Qt.DecorationRole).isNull()
    console = tab.console.visible_text()
    assert console.count(": done") == 3 and "Render finished: 3 done" in console

    # the saved project holds the takes (the queue saves after every state change)
    saved = ProjectStore.open(store.folder).project
    assert all(s.selected_take and s.selected_take.status == "done" for s in saved.scenes)

    # export through the Export Video button, then a second export reuses the clips (no render)
    with qtbot.waitSignal(tab.export_group.export_finished, timeout=120_000) as blocker:
        qtbot.mouseClick(tab.export_group.export_button, Qt.LeftButton)
    result = blocker.args[0]
    assert not isinstance(result, BaseException), result
    out = result.output_path
    assert out.is_file() and out.is_relative_to(store.folder)
    assert abs(probe(out).duration - 3.0) < 0.5
    assert tab.export_group.open_folder_button.isEnabled()
    assert "Exported" in tab.console.visible_text()
    takes_before = sum(len(s.takes) for s in window.session.project.scenes)
    with qtbot.waitSignal(tab.export_group.export_finished, timeout=120_000):
        qtbot.mouseClick(tab.export_group.export_button, Qt.LeftButton)
    assert sum(len(s.takes) for s in window.session.project.scenes) == takes_before

    # close and reopen: the same state comes back
    before = window.session.project.model_dump(mode="json", exclude={"modified_at"})
    window.close()
    again = open_window(store.folder)
    after = again.session.project.model_dump(mode="json", exclude={"modified_at"})
    assert after == before
    assert [_cell(again, r, "Status").split()[0] for r in range(3)] == ["done"] * 3
    assert again.settings.recent_projects[0] == str(store.folder)
    # nothing to render now: Generate says so instead of paying again
    estimate(qtbot, again)
    assert "3 already rendered" in again.video_tab.cost_label.text()
    assert not again.video_tab.generate_button.isEnabled()


def test_render_failure_is_shown_and_project_stays_valid(open_window, tmp_path, qtbot, monkeypatch):
    monkeypatch.setenv("IMAGEAI_PROVIDER_PLUGINS", PICKY)
    store = make_project(tmp_path / "proj", ["A calm sea", "something forbidden", "A quiet forest"],
                         provider="picky")
    window = open_window(store.folder)
    summary = render_and_wait(qtbot, window)
    failed_id = window.session.project.scenes[1].id
    assert list(summary.failed) == [failed_id]

    status = _cell(window, 1, "Status")
    assert status.startswith("failed") and "content policy" in status
    assert "content policy" in _cell(window, 1, "Status", Qt.ToolTipRole)
    assert _cell(window, 0, "Status").startswith("done") and _cell(window, 2, "Status").startswith("done")
    console = window.video_tab.console.visible_text()
    assert "Scene 2: FAILED [content_rejected]" in console and "ERROR" in console
    # the file on disk is valid and records the failure
    doc = json.loads((store.folder / "project.json").read_text())
    assert doc["scenes"][1]["takes"][-1]["status"] == "failed"
    reopened = ProjectStore.open(store.folder).project
    assert reopened.scenes[1].takes[-1].error_kind == "content_rejected"

    # retry: fix the prompt in the table, then Retry failed renders only that scene
    tab = window.video_tab
    assert tab.retry_button.isEnabled()
    model = tab.scene_model
    assert model.setData(model.index(1, COL["Prompt"]), "something allowed", Qt.EditRole)
    with qtbot.waitSignal(tab.controller.finished, timeout=120_000) as blocker:
        assert tab.retry_failed()
    assert blocker.args[0].done == [failed_id]
    assert _cell(window, 1, "Status").startswith("done")
    assert len(window.session.project.scenes[0].takes) == 1  # the others were not rendered again


def test_cost_above_the_threshold_is_confirmed_first(open_window, tmp_path, qtbot, monkeypatch, settings):
    monkeypatch.setenv("IMAGEAI_PROVIDER_PLUGINS", PICKY)
    store = make_project(tmp_path / "proj", ["one", "two"], provider="picky", duration=2.0)
    settings.confirm_cost_above = 0.5
    window = open_window(store.folder)
    tab = window.video_tab
    estimate(qtbot, window)
    assert "$1.00" in tab.cost_label.text()  # 2 scenes x 2 s x $0.25/s, shown before anything is spent
    text = generate_and_confirm(qtbot, window, answer=False)
    assert "$1.00" in text and "scene 1: picky-1, renders 2 s, $0.50" in text
    assert all(not s.takes for s in window.session.project.scenes)
    assert "Render not started" in tab.console.visible_text()
    with qtbot.waitSignal(tab.controller.finished, timeout=120_000) as blocker:
        generate_and_confirm(qtbot, window, answer=True)
    assert len(blocker.args[0].done) == 2
    assert window.session.project.total_cost == 1.0
