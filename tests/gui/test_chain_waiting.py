"""A chained scene in the scene table: while it waits for its parent's clip its status says so ("waiting for scene
1"), not the status of its last take; once it renders the status follows its new take."""
from __future__ import annotations

from PySide6.QtCore import Qt

from gui.video.scene_table_model import COL
from tests.gui.conftest import make_project, render_and_wait


def test_a_waiting_child_shows_which_scene_it_waits_for(open_window, tmp_path, qtbot):
    store = make_project(tmp_path / "proj", ["A red fox in the snow", "The fox looks back"])
    one, two = store.project.scenes
    two.extend_scene_id = one.id
    store.save()
    window = open_window(store.folder)
    window.resize(1280, 800)
    tab, model = window.video_tab, window.video_tab.scene_model
    seen: list[str] = []

    def status_when_waiting(event) -> None:  # connected after the tab's own slot: the model is updated already
        if event.kind == "queued" and event.scene_id == two.id and event.take_id is None:
            tab._flush_rows()  # what the 100 ms repaint timer does
            seen.append(model.data(model.index(1, COL["Status"]), Qt.DisplayRole))
            seen.append(model.data(model.index(1, COL["Status"]), Qt.ToolTipRole))
            window.grab().save(str(tmp_path / "waiting.png"))  # looked at by hand

    tab.controller.event.connect(status_when_waiting)
    summary = render_and_wait(qtbot, window)
    assert sorted(summary.done) == sorted([one.id, two.id]), summary
    assert seen == ["waiting for scene 1", "waiting for scene 1: it renders once that clip is done"]
    assert model.data(model.index(1, COL["Status"]), Qt.DisplayRole).startswith("done")
    assert not model.waiting
