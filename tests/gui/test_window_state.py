"""The main window's own jobs: new/open/save-as, recent projects, autosave off the GUI thread, window state and the
last-used render settings across restarts, and cancelling a render."""
from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QMessageBox

from core.config import Settings, load_settings
from core.video.project_io import ProjectStore
from core.video.scene_edits import AddScene
from gui.video.scene_table_model import COL
from tests.gui.conftest import make_project


def test_scratch_project_save_as_new_and_open(open_window, tmp_path):
    window = open_window()
    assert window.session.untitled and "not saved" in window.windowTitle()
    window.session.apply(AddScene(prompt="from scratch"))
    assert window.save_as(tmp_path / "Saved")
    assert not window.session.untitled
    assert ProjectStore.open(tmp_path / "Saved").project.scenes[0].prompt == "from scratch"
    assert window.new_project(tmp_path / "Second")
    assert window.session.project.scenes == []
    assert window.open_project(tmp_path / "Saved")
    assert window.session.project.scenes[0].prompt == "from scratch"
    assert load_settings().recent_projects[:2] == [str(tmp_path / "Saved"), str(tmp_path / "Second")]
    # a folder that is not a project is refused with the reason, and the open project stays
    assert not window.open_project(tmp_path / "nothing-here")
    assert "no project here" in window.video_tab.console.visible_text()
    assert window.session.project.scenes[0].prompt == "from scratch"


def test_autosave_writes_off_the_gui_thread(open_window, tmp_path, qtbot):
    store = make_project(tmp_path / "p", ["before"])
    window = open_window(store.folder, Settings(autosave_interval_s=0.2, confirm_cost_above=100))
    model = window.video_tab.scene_model
    model.setData(model.index(0, COL["Prompt"]), "after", Qt.EditRole)
    assert window.session.dirty

    def saved() -> bool:
        return json.loads((store.folder / "project.json").read_text())["scenes"][0]["prompt"] == "after"

    qtbot.waitUntil(saved, timeout=10_000)
    assert not window.session.dirty
    assert (store.folder / "project.json.bak").exists()


def test_window_state_and_last_render_settings_survive_a_restart(open_window, tmp_path):
    store = make_project(tmp_path / "p", ["a"])
    window = open_window(store.folder)
    window.resize(700, 550)  # inside the offscreen screen (800x600), which restoreGeometry respects
    height = window.height()  # (the layout's minimum may raise it a little)
    assert height < 800
    combo = window.findChild(QComboBox, "resolutionCombo")
    combo.setCurrentIndex(combo.findData("720p"))
    assert not window.close()  # autosave off: the changed project asks first; the app's settings are kept anyway
    window.close_question.button(QMessageBox.Discard).click()
    settings = load_settings()
    assert settings.last_render_settings["resolution"] == "720p"
    assert settings.recent_projects[0] == str(store.folder)

    from gui.main_window import MainWindow

    again = MainWindow(settings)  # opens the last project, restores the geometry
    try:
        assert again.session.store.folder == store.folder
        # the offscreen screen is 800x600 and narrower than the layout's minimum width, so only the height shows
        # that the geometry came back (a first start is 1280x800)
        assert again.height() == height
        again.new_scratch_project()
        assert again.session.project.render.resolution == "720p"  # new projects start from the last settings
    finally:
        again.close()


def test_cancel_all_marks_takes_cancelled_and_keeps_the_project_valid(open_window, tmp_path, qtbot, settings):
    store = make_project(tmp_path / "p", ["one", "two", "three"], duration=30.0)
    settings.render_concurrency = {"default": 1, "animatic": 1}
    window = open_window(store.folder)
    tab = window.video_tab
    tab.update_estimate()
    with qtbot.waitSignal(tab.controller.event, timeout=30_000,
                          check_params_cb=lambda e: e.kind == "progress"):
        qtbot.mouseClick(tab.generate_button, Qt.LeftButton)
    assert tab.cancel_button.isEnabled()
    with qtbot.waitSignal(tab.controller.finished, timeout=60_000) as blocker:
        qtbot.mouseClick(tab.cancel_button, Qt.LeftButton)
    summary = blocker.args[0]
    assert summary.cancelled and not summary.done
    statuses = [s.takes[-1].status for s in window.session.project.scenes if s.takes]
    assert "cancelled" in statuses and "done" not in statuses
    assert "cancelled" in tab.console.visible_text()
    reopened = ProjectStore.open(store.folder).project
    assert all(t.status in ("cancelled", "queued") for s in reopened.scenes for t in s.takes)
    assert not list((store.folder / "clips").glob("*.mp4"))  # no half-written clip is left as a clip
    assert tab.retry_button.isEnabled() and tab.generate_button.isEnabled()


def test_export_can_be_cancelled_and_run_again(open_window, tmp_path, qtbot):
    from core.video.export import TransitionSpec

    store = make_project(tmp_path / "p", ["one", "two", "three"], duration=12.0)
    window = open_window(store.folder)
    tab = window.video_tab
    tab.update_estimate()
    with qtbot.waitSignal(tab.controller.finished, timeout=120_000):
        qtbot.mouseClick(tab.generate_button, Qt.LeftButton)
    group = tab.export_group
    # transitions make the exporter re-encode, which takes long enough to cancel
    window.session.project.export = window.session.project.export.model_copy(
        update={"transition": TransitionSpec(kind="dissolve", duration=1.0), "quality": "high"})
    with qtbot.waitSignal(group.export_finished, timeout=60_000) as blocker:
        qtbot.mouseClick(group.export_button, Qt.LeftButton)
        assert group.cancel_button.isEnabled()
        qtbot.mouseClick(group.cancel_button, Qt.LeftButton)
    assert isinstance(blocker.args[0], BaseException) and getattr(blocker.args[0], "kind", "") == "cancelled"
    assert "Export cancelled" in tab.console.visible_text()
    assert not list((store.folder / "exports").glob("*.mp4"))  # nothing half-written is left as an export
    assert group.export_button.isEnabled() and not group.cancel_button.isEnabled()
    with qtbot.waitSignal(group.export_finished, timeout=120_000) as blocker:
        qtbot.mouseClick(group.export_button, Qt.LeftButton)
    assert blocker.args[0].output_path.is_file()
