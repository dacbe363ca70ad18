"""The export panel's music start/end fields reach the project's export settings ("file end" is no end)."""
from __future__ import annotations

from tests.gui.conftest import make_project


def test_music_from_and_to_are_saved_and_file_end_clears_the_end(open_window, tmp_path, qtbot):
    window = open_window(make_project(tmp_path / "p", ["a"]).folder)
    group = window.video_tab.export_group
    assert group.music_end.text() == "file end"
    group.music_start.setValue(12.5)
    group.music_start.editingFinished.emit()
    group.music_end.setValue(40)
    group.music_end.editingFinished.emit()
    export = window.video_tab.export_group.session.project.export
    assert (export.music_start, export.music_end) == (12.5, 40.0)
    group.music_end.setValue(0)
    group.music_end.editingFinished.emit()
    assert group.session.project.export.music_end is None
