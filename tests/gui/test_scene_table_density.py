"""The denser scene table: scene titles (editable, undoable), takes shown by name ("Take 2 · fal · 6 s") instead of
their clip's hash file name, short provider cells, and rows low enough for many scenes at 1280x800."""
from __future__ import annotations

from PySide6.QtCore import Qt

from core.video.project import Take
from gui.video.scene_table_model import COL, COLUMNS
from gui.video.take_names import take_name
from tests.gui.conftest import make_project
from tests.media_factory import make_clip


LONG_ERROR = ("the clip failed its decode check: expected 6 s, decoded 2.4 s\n[h264 @ 0x55d0c3a1] error while "
              "decoding MB 12 7, bytestream -5\n[h264 @ 0x55d0c3a1] concealing 40 DC errors")


def _project_with_takes(folder):
    store = make_project(folder, [f"prompt {i}" for i in range(12)])
    scenes = store.project.scenes
    scenes[0].title = "Harbour at dawn"
    scenes[1].title = ""
    clip = make_clip(store.folder / "clips" / "3f9a1c0de4b2.mp4", duration=1.0)
    rel = clip.relative_to(store.folder).as_posix()
    first = Take(provider="ltx-video", deployment="replicate", model="ltx-2-fast", status="failed", error="boom")
    second = Take(provider="ltx-video", deployment="fal", model="ltx-2-fast", status="done", rendered_seconds=6.0,
                  cost=0.24, clip_path=rel, seed=7)
    scenes[0].takes = [first, second]
    scenes[0].selected_take_id = second.id
    scenes[2].takes = [Take(provider="ltx-video", deployment="fal", status="failed", error=LONG_ERROR)]
    store.save()
    return store


def test_titles_and_take_names(open_window, tmp_path, qtbot):
    store = _project_with_takes(tmp_path / "p")
    window = open_window(store.folder)
    model = window.video_tab.scene_model

    def cell(row, column, role=Qt.DisplayRole):
        return model.data(model.index(row, COL[column]), role)

    assert COLUMNS[2] == "Title" and "Clip" not in COLUMNS
    assert cell(0, "Title") == "Harbour at dawn"
    assert cell(1, "Title") == "Scene 2"  # no title yet: its number, greyed, and the tooltip says how to name it
    assert "double-click" in cell(1, "Title", Qt.ToolTipRole)
    assert cell(1, "Title", Qt.ForegroundRole) is not None

    # the take the export uses, by name: its number among the scene's takes, where it rendered, its length
    assert cell(0, "Take") == "Take 2 · 6 s"  # where it rendered: the Provider column's word, and the tooltip
    tip = cell(0, "Take", Qt.ToolTipRole)
    assert tip.startswith("Take 2 · fal · 6 s")
    assert "ltx-video / ltx-2-fast on fal" in tip and "cost $0.24" in tip and "seed 7" in tip
    assert "clips/3f9a1c0de4b2.mp4" in tip and "Double-click to play" in tip and "2 takes" in tip
    assert "3f9a1c0de4b2" not in cell(0, "Take")
    assert cell(0, "Provider") == "ltx-video"  # one word for the narrow column; the model and where in its tooltip
    assert cell(0, "Provider", Qt.ToolTipRole).startswith("ltx-2-fast on fal")
    assert cell(1, "Take") == ""
    scene = window.session.project.scenes[0]
    assert take_name(scene, scene.takes[0]) == "Take 1 · replicate"  # failed: no length

    # a failed render: one sentence in the cell, the whole error in its tooltip
    status = cell(2, "Status")
    assert status == "failed: The clip failed its decode check: expected 6 s, decoded 2.4 s."
    assert cell(2, "Status", Qt.ToolTipRole) == LONG_ERROR

    # the title is edited in place, undoably
    index = model.index(1, COL["Title"])
    assert model.flags(index) & Qt.ItemIsEditable
    assert model.setData(index, "  Fox in the snow ", Qt.EditRole)
    assert window.session.project.scenes[1].title == "Fox in the snow" and cell(1, "Title") == "Fox in the snow"
    window.undo_action.trigger()
    assert window.session.project.scenes[1].title == "" and cell(1, "Title") == "Scene 2"

    # dense rows: low enough that the 12 scenes need little more than 400 px
    table = window.video_tab.scenes.table
    assert table.rowHeight(0) <= 32
    assert table.iconSize().height() == table.rowHeight(0) - 4
    assert model.headerData(COL["Take"], Qt.Horizontal, Qt.ToolTipRole)


def test_double_click_on_a_take_plays_it(open_window, tmp_path, qtbot):
    store = _project_with_takes(tmp_path / "p")
    window = open_window(store.folder)
    tab = window.video_tab
    requested = []
    tab.scenes.preview_requested.connect(requested.append)
    tab.scenes._on_double_click(tab.scene_model.index(0, COL["Take"]))
    assert requested and requested[0].endswith("3f9a1c0de4b2.mp4")
    tab.preview.stop()
