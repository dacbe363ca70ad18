"""File > Import ImageAI project…: a hand-made ImageAI project through the real dialog, the real import on the app's
loop thread, the report in the dialog, the project opened in the window, missing files found later."""
from __future__ import annotations

import json
import threading

import gui.import_dialog as import_dialog
from gui.import_dialog import ImportDialog
from tests.media_factory import make_image
from tests.test_imageai_import import song  # noqa: F401  (the fixture: the song project, parts of it lost)


def _open_dialog(window) -> ImportDialog:
    action = window.findChild(type(window.undo_action), "importImageAIAction")
    assert action is not None and action.text() == "&Import ImageAI project…"
    assert action in window.menuBar().actions()[0].menu().actions()
    action.trigger()
    dialog = window.findChild(ImportDialog)
    assert dialog is not None and dialog.isVisible()
    return dialog


def _groups(dialog) -> dict[str, list[tuple[str, str]]]:
    out = {}
    for i in range(dialog.report.topLevelItemCount()):
        top = dialog.report.topLevelItem(i)
        out[top.text(0).rsplit(" (", 1)[0]] = [(top.child(j).text(0), top.child(j).text(1))
                                              for j in range(top.childCount())]
    return out


def test_import_shows_the_report_opens_the_project_and_relinks_later(open_window, song, qtbot, monkeypatch):
    threads = []
    real = import_dialog.import_imageai

    def recording(*args):
        threads.append(threading.current_thread())
        return real(*args)
    monkeypatch.setattr(import_dialog, "import_imageai", recording)
    window = open_window()
    dialog = _open_dialog(window)

    # nothing chosen: every problem at once, nothing runs
    assert dialog.start_import() is False
    assert "choose the ImageAI project" in dialog.status.text() and "choose a folder" in dialog.status.text()

    dest = song["tmp"] / "new"
    dialog.source.setText(str(song["source"].parent))  # the ImageAI folder works as well as its file
    dialog.dest.setText(str(dest))
    dialog.add_search_folder(song["search"])
    with qtbot.waitSignal(dialog.open_requested, timeout=60_000):
        assert dialog.start_import()
    assert threads and threads[0] is not threading.main_thread()  # off the GUI thread

    assert "Imported 3 scene(s) of “Morning Song”" in dialog.status.text()
    assert "3 missing" in dialog.status.text() and "project relink" in dialog.status.text()
    groups = _groups(dialog)
    assert [role for role, _ in groups["Missing"]] == ["scene 2 start frame", "scene 2 end frame",
                                                       "scene 2 reference"]
    assert any(where.startswith("G:\\Users") for _, where in groups["Missing"])  # as the Windows file wrote it
    assert any("morning_song.wav" in where for _, where in groups["Found and copied"])
    assert any("narration" in note for note, _ in groups["Not mapped"])
    assert len(groups["Other images of a scene (not imported)"]) == 1
    # the window has the imported project open; the source was only read
    assert window.session.store.folder == dest
    assert [s.duration for s in window.session.project.scenes] == [2.0, 1.5, 1.5]
    assert window.session.project.export.music_start == 1.5
    assert song["source"].read_bytes() == song["bytes"]
    assert dialog.relink_button.isEnabled()
    dialog.resize(1280, 800)
    assert not dialog.grab().isNull()

    # later: the lost files turn up in another folder
    found = song["tmp"] / "found"
    found.mkdir()
    make_image(found / "heron.png", 64, 64, (90, 90, 90, 255))
    make_image(found / "scene_1_end.png", 320, 180)
    with qtbot.waitSignal(dialog.open_requested, timeout=60_000):
        dialog.start_relink([found])
    assert dialog.status.text() == "2 file(s) found and copied in, 1 still missing."
    assert [rel for rel in window.session.store.missing_assets()] == ["images/scene_1_20251102_v1.png"]
    assert dialog.relink_button.isEnabled()


def test_a_file_that_is_not_imageai_is_refused_in_the_dialog(open_window, qtbot, tmp_path):
    window = open_window()
    before = window.session.store.folder
    other = tmp_path / "package.json"
    other.write_text(json.dumps({"name": "left-pad", "version": "1.3.0"}))
    dialog = _open_dialog(window)
    dialog.source.setText(str(other))
    dialog.dest.setText(str(tmp_path / "new"))
    with qtbot.waitSignal(dialog.finished, timeout=60_000) as blocker:
        dialog.start_import()
    assert isinstance(blocker.args[0], Exception)
    assert dialog.status.text().startswith("Import failed: ") and "package.json" in dialog.status.text()
    assert window.session.store.folder == before and not (tmp_path / "new" / "project.json").exists()
    assert dialog.import_button.isEnabled() and not dialog.relink_button.isEnabled()


def test_a_folder_that_is_not_empty_is_not_overwritten(open_window, song, qtbot):
    window = open_window()
    dialog = _open_dialog(window)
    taken = song["tmp"] / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    dialog.source.setText(str(song["source"]))
    dialog.dest.setText(str(taken))
    dialog.add_search_folder(song["tmp"] / "nowhere")
    assert dialog.start_import() is False
    text = dialog.status.text()
    assert "already exists and is not empty" in text and "nowhere: no such folder" in text
