"""The scene table: editing a prompt lands in project.json; add, duplicate, delete, reorder (buttons and drag); undo
and redo from the Edit menu; reference images; takes; settings; preview."""
from __future__ import annotations

import json

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from core import secrets
from tests.gui.conftest import make_project, render_and_wait
from tests.media_factory import make_image
from gui.video.scene_table_model import COL


def _prompts(window) -> list[str]:
    return [s.prompt for s in window.session.project.scenes]


def test_prompt_typed_in_the_table_is_saved(open_window, tmp_path, qtbot):
    store = make_project(tmp_path / "p", ["first", "second"])
    window = open_window(store.folder)
    table = window.video_tab.scenes.table
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)  # the editor gets the keyboard only in the active window
    index = table.model().index(1, COL["Prompt"])
    table.setCurrentIndex(index)
    table.edit(index)
    editor = table.viewport().findChild(QLineEdit)
    assert editor is not None and editor.text() == "second"
    editor.selectAll()
    qtbot.keyClicks(editor, "a heron lifts off the river")
    qtbot.keyClick(editor, Qt.Key_Tab)  # leaving the cell commits the edit
    assert _prompts(window) == ["first", "a heron lifts off the river"]
    assert window.isWindowModified()
    window.findChild(type(window.undo_action), "saveAction").trigger()
    doc = json.loads((store.folder / "project.json").read_text())
    assert [s["prompt"] for s in doc["scenes"]] == ["first", "a heron lifts off the river"]
    assert not window.isWindowModified()
    # a bad duration is refused with a message naming the field, and nothing changes
    model = table.model()
    assert not model.setData(model.index(0, COL["Length"]), "-2", Qt.EditRole)
    assert "duration" in window.video_tab.console.visible_text()
    assert window.session.project.scenes[0].duration == 1.0


def test_add_duplicate_delete_move_and_undo(open_window, tmp_path, qtbot):
    window = open_window(make_project(tmp_path / "p", ["a", "b", "c"]).folder)
    scenes = window.video_tab.scenes
    ids = [s.id for s in window.session.project.scenes]

    scenes.select_ids([ids[0]])
    qtbot.mouseClick(scenes.down_button, Qt.LeftButton)
    assert _prompts(window) == ["b", "a", "c"]
    assert scenes.selected_ids() == [ids[0]]
    qtbot.mouseClick(scenes.duplicate_button, Qt.LeftButton)
    assert _prompts(window) == ["b", "a", "a", "c"]
    qtbot.mouseClick(scenes.delete_button, Qt.LeftButton)  # the copy is selected
    assert _prompts(window) == ["b", "a", "c"]
    qtbot.mouseClick(scenes.add_button, Qt.LeftButton)
    assert len(window.session.project.scenes) == 4
    QApplication.activeWindow() and QApplication.focusWidget() and qtbot.keyClick(QApplication.focusWidget(),
                                                                                   Qt.Key_Escape)

    # drag: the view hands the model a drop of scene "c" before row 0
    model = scenes.model
    mime = model.mimeData([model.index(model.row_of(ids[2]), 0)])
    model.dropMimeData(mime, Qt.MoveAction, 0, 0, QModelIndex())
    assert _prompts(window)[:3] == ["c", "b", "a"]

    undo = window.undo_action
    assert undo.isEnabled() and "Move scene" in undo.text()
    for _ in range(5):
        undo.trigger()
    assert _prompts(window) == ["a", "b", "c"]
    assert not undo.isEnabled()
    window.redo_action.trigger()
    assert _prompts(window) == ["b", "a", "c"]


def test_reference_images_project_and_scene(open_window, tmp_path):
    store = make_project(tmp_path / "p", ["a", "b"])
    window = open_window(store.folder)
    refs = window.video_tab.references
    images = [make_image(tmp_path / f"ref{i}.png") for i in range(4)]
    not_image = tmp_path / "notes.txt"
    not_image.write_text("hello")

    refs.add([str(p) for p in images], scene=False)
    project = window.session.project
    assert len(project.reference_images) == 3  # at most 3: the fourth is refused with a message
    assert all((store.folder / r.path).is_file() and r.path.startswith("references/") for r in project.reference_images)
    assert "at most 3" in window.video_tab.console.visible_text()
    assert not refs.project_row.add_button.isEnabled()
    refs.remove(0, scene=False)
    assert len(project.reference_images) == 2 and refs.project_row.add_button.isEnabled()

    assert not refs.scene_row.isEnabled()  # no scene selected
    window.video_tab.scenes.select_ids([project.scenes[1].id])
    assert refs.scene_id == project.scenes[1].id and refs.scene_row.isEnabled()
    refs.add([str(images[3]), str(not_image)], scene=True)
    assert [r.label for r in project.scenes[1].reference_images] == ["ref3.png"]
    assert "notes.txt is not an image" in window.video_tab.console.visible_text()
    refs.use_global.setChecked(False)
    assert project.scenes[1].use_global_references is False
    window.undo_action.trigger()
    assert project.scenes[1].use_global_references is True
    assert window.save()
    doc = json.loads((store.folder / "project.json").read_text())
    assert len(doc["reference_images"]) == 2 and len(doc["scenes"][1]["reference_images"]) == 1


def test_takes_compare_choose_and_preview(open_window, tmp_path, qtbot):
    store = make_project(tmp_path / "p", ["a wave"])
    window = open_window(store.folder)
    tab = window.video_tab
    render_and_wait(qtbot, window)
    tab.force_check.setChecked(True)  # a second take even though nothing changed
    render_and_wait(qtbot, window)
    scene = window.session.project.scenes[0]
    assert len(scene.takes) == 2 and scene.selected_take_id == scene.takes[1].id

    tab.show_takes(scene.id)
    dialog = tab._takes_dialog
    assert dialog.table.rowCount() == 2
    dialog.table.selectRow(1)  # newest first: row 1 is the first take
    dialog.choose_current()
    assert scene.selected_take_id == scene.takes[0].id
    with qtbot.waitSignal(tab.preview.started, timeout=5000):
        dialog._preview()
    qtbot.waitUntil(lambda: tab.preview.frames_shown > 3, timeout=20_000)
    dialog.close()
    window.undo_action.trigger()
    assert scene.selected_take_id == scene.takes[1].id

    # double-clicking a clip cell previews it too
    model = tab.scene_model
    rect = tab.scenes.table.visualRect(model.index(0, COL["Take"]))
    viewport = tab.scenes.table.viewport()
    with qtbot.waitSignal(tab.preview.started, timeout=5000) as blocker:
        qtbot.mouseClick(viewport, Qt.LeftButton, pos=rect.center())  # Qt 6 needs the press before the double
        qtbot.mouseDClick(viewport, Qt.LeftButton, pos=rect.center())
    assert blocker.args[0].endswith(".mp4")
    tab.preview.stop()


def test_settings_dialog_stores_keys_without_showing_them(open_window, tmp_path):
    from gui.settings_dialog import SettingsDialog

    window = open_window(make_project(tmp_path / "p", ["a"]).folder)
    dialog = SettingsDialog(window.settings, window)
    dialog.key_edits["fal"].setText("fal-secret-abcdef123")
    dialog.comfyui.table.item(0, 0).setText("")  # an empty id: the address's host:port
    dialog.comfyui.table.item(0, 1).setText("http://127.0.0.1:9999")
    dialog.concurrency["default"].setValue(5)
    dialog.confirm.setValue(2.5)
    dialog.lock_wait.setValue(12)
    window.apply_settings_dialog(dialog)
    assert secrets.get_key("fal") == "fal-secret-abcdef123"
    assert window.settings.comfyui_url == "http://127.0.0.1:9999"
    assert window.settings.render_concurrency["default"] == 5 and window.settings.confirm_cost_above == 2.5
    assert window.settings.project_lock_wait_s == 12  # the render lock waits this long for another process
    console = window.video_tab.console.visible_text()
    assert "fal stored" in console and "fal-secret-abcdef123" not in console
    # an error that carries the key is redacted in the console
    window.video_tab.console.error("request failed with key fal-secret-abcdef123")
    assert "fal-secret-abcdef123" not in window.video_tab.console.visible_text()
    from core.config import load_settings
    assert load_settings().confirm_cost_above == 2.5
    assert "fal-secret" not in (window.settings.model_dump_json())


def test_console_level_filter(open_window, tmp_path):
    window = open_window(make_project(tmp_path / "p", ["a"]).folder)
    console = window.video_tab.console
    console.log("debug", "tiny detail")
    console.error("big problem")
    assert "big problem" in console.visible_text() and "tiny detail" not in console.visible_text()
    console.level.setCurrentIndex(console.level.findData("debug"))
    assert "tiny detail" in console.visible_text()
    console.level.setCurrentIndex(console.level.findData("error"))
    assert console.visible_text().strip().endswith("big problem") and "Opened project" not in console.visible_text()


def test_reference_images_accept_dropped_files(open_window, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    window = open_window(make_project(tmp_path / "p", ["a"]).folder)
    row = window.video_tab.references.project_row
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(make_image(tmp_path / "dropped.png")))])
    event = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    row.dropEvent(event)
    refs = window.session.project.reference_images
    assert [r.label for r in refs] == ["dropped.png"] and refs[0].path == "references/dropped.png"


def test_start_frame_is_imported_shown_and_rendered(open_window, tmp_path, qtbot):
    store = make_project(tmp_path / "p", ["a cat on a roof"])
    window = open_window(store.folder)
    scenes = window.video_tab.scenes
    sid = window.session.project.scenes[0].id
    image = make_image(tmp_path / "cat.png", 320, 180, (20, 200, 40, 255))
    assert not scenes.set_frame(sid, "start_frame", tmp_path / "missing.png")
    assert scenes.set_frame(sid, "start_frame", image)
    scene = window.session.project.scenes[0]
    assert scene.start_frame == "images/cat.png" and (store.folder / "images" / "cat.png").is_file()
    model = scenes.model
    assert model.data(model.index(0, COL["Start frame"])) == "cat.png"
    qtbot.waitUntil(lambda: model.data(model.index(0, COL["Thumbnail"]), Qt.DecorationRole) is not None,
                    timeout=10_000)
    thumb = model.data(model.index(0, COL["Thumbnail"]), Qt.DecorationRole).toImage()
    pixel = thumb.pixelColor(thumb.width() // 2, thumb.height() // 2)
    assert pixel.green() > 150 and pixel.red() < 80  # the start frame itself, not a title card
    render_and_wait(qtbot, window)
    assert scene.selected_take.settings_hash and scene.selected_take.status == "done"
    window.undo_action.trigger()
    assert scene.start_frame is None
