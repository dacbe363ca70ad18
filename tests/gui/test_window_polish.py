"""The window as a new user meets it (a QA run-through at 1280x800): closing asks before dropping or saving changes
when autosave is off; the table, the side panels and their combos fit 1280 px; the preview, the status log and the
settings pages say what is true."""
from __future__ import annotations

import json

from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QComboBox, QMessageBox, QToolTip, QWidget

from core.config import Settings
from gui.video import combo_fit
from gui.video.scene_table_model import COL, COLUMNS
from tests.gui.conftest import make_project, render_and_wait
from tests.gui.helpers import choose, widget


def _saved_provider(store) -> str:
    return json.loads((store.folder / "project.json").read_text())["render"]["provider"]


def _browse_providers(window) -> None:
    provider = widget(window, QComboBox, "providerCombo")
    choose(provider, "ltx-video")
    choose(provider, "veo")
    assert window.session.project.render.provider == "veo" and window.session.dirty


def test_closing_with_autosave_off_asks_and_discard_keeps_the_file(open_window, tmp_path, monkeypatch):
    monkeypatch.setenv("FAL_KEY", "fal-test-key-123456")
    monkeypatch.setenv("GEMINI_API_KEY", "gem-test-key-123456")
    store = make_project(tmp_path / "p", ["a lighthouse"])
    window = open_window(store.folder)
    _browse_providers(window)

    assert not window.close()  # the question is on screen; nothing is written yet
    question = window.close_question
    assert question is not None and question.isVisible()
    assert {question.standardButton(b) for b in question.buttons()} == {
        QMessageBox.Save, QMessageBox.Discard, QMessageBox.Cancel}
    assert window.isVisible() and _saved_provider(store) == "animatic"

    question.button(QMessageBox.Cancel).click()  # Cancel: the window stays, still unsaved
    assert window.isVisible() and window.close_question is None and window.session.dirty

    assert not window.close()
    window.close_question.button(QMessageBox.Discard).click()
    assert not window.isVisible()
    assert _saved_provider(store) == "animatic"  # the browsed provider was not written


def test_closing_with_autosave_off_and_save_writes_the_changes(open_window, tmp_path, monkeypatch):
    monkeypatch.setenv("FAL_KEY", "fal-test-key-123456")
    monkeypatch.setenv("GEMINI_API_KEY", "gem-test-key-123456")
    store = make_project(tmp_path / "p", ["a lighthouse"])
    window = open_window(store.folder)
    _browse_providers(window)
    assert not window.close()
    window.close_question.button(QMessageBox.Save).click()
    assert not window.isVisible() and _saved_provider(store) == "veo"


def test_closing_with_autosave_on_saves_without_asking(open_window, tmp_path, monkeypatch):
    monkeypatch.setenv("FAL_KEY", "fal-test-key-123456")
    monkeypatch.setenv("GEMINI_API_KEY", "gem-test-key-123456")
    store = make_project(tmp_path / "p", ["a lighthouse"])
    # autosave chosen (every hour: the timer does not fire during the test, the close saves)
    window = open_window(store.folder, Settings(autosave_interval_s=3600, confirm_cost_above=100.0))
    _browse_providers(window)
    assert window.close() and window.close_question is None
    assert _saved_provider(store) == "veo"


def test_closing_an_unchanged_project_asks_nothing(open_window, tmp_path):
    store = make_project(tmp_path / "p", ["a lighthouse"])
    window = open_window(store.folder)
    assert not window.session.dirty
    assert window.close() and window.close_question is None


# --- 1280 px: the table, the side panels, their combos ------------------------------------------------------------
def _fits(table, column: int, text: str) -> bool:
    return table.fontMetrics().horizontalAdvance(text) + 8 <= table.columnWidth(column)


def test_the_table_and_the_left_panel_fit_1280_whatever_the_provider(open_window, tmp_path, qtbot, monkeypatch):
    monkeypatch.setenv("FAL_KEY", "fal-test-key-123456")
    monkeypatch.setenv("GEMINI_API_KEY", "gem-test-key-123456")
    store = make_project(tmp_path / "p", [f"a long prompt about scene {i} and its light" for i in range(12)])
    window = open_window(store.folder)
    assert (window.width(), window.height()) == (1280, 800)
    tab = window.video_tab
    summary = render_and_wait(qtbot, window)  # a done take in every row (the Take cell's longest form)
    assert len(summary.done) == 12
    table = tab.scenes.table
    scroll = widget(window, QWidget, "projectSettingsScroll")
    provider = widget(window, QComboBox, "providerCombo")
    assert table.isColumnHidden(COL["Start frame"]) and table.isColumnHidden(COL["End frame"])
    widths = set()
    for name in ("animatic", "ltx-video", "veo"):
        choose(provider, name)
        tab.scene_model.refresh_all()
        QApplication.processEvents()
        widths.add(scroll.width())
        # nothing cut at the panel's right edge: the content fits the panel
        assert scroll.widget().minimumSizeHint().width() <= scroll.viewport().width(), name
        assert table.horizontalScrollBar().maximum() == 0, name  # no sideways scroll
        shown = [c for c in range(len(COLUMNS)) if not table.isColumnHidden(c)]
        assert sum(table.columnWidth(c) for c in shown) <= table.viewport().width(), name
        for row in (0, 11):
            for column in ("Take", "Provider", "Cost", "Status", "Length"):
                text = tab.scene_model.data(tab.scene_model.index(row, COL[column]))
                assert _fits(table, COL[column], text), (name, column, text)
        # every combo of the panel fits it: an elided one says its whole text on hover
        for combo in scroll.widget().findChildren(QComboBox):
            if combo.isVisibleTo(scroll.widget()):
                assert combo.geometry().right() <= scroll.viewport().width(), combo.objectName()
                if combo_fit.is_elided(combo):
                    assert combo_fit.tooltip(combo).startswith(combo.currentText())
    assert len(widths) == 1  # choosing Veo does not widen the panel (nor squeeze the table)

    model = widget(window, QComboBox, "modelCombo")
    assert combo_fit.is_elided(model) and combo_fit.shown_text(model).endswith("…")
    QApplication.sendEvent(model, QHelpEvent(QEvent.ToolTip, QPoint(5, 5), model.mapToGlobal(QPoint(5, 5))))
    assert QToolTip.text().startswith(model.currentText())
    QToolTip.hideText()

    # the frame columns come back from the header's context menu
    menu = tab.scenes.column_menu()
    start = next(a for a in menu.actions() if a.text() == "Start frame")
    assert not start.isChecked()
    start.trigger()
    assert not table.isColumnHidden(COL["Start frame"])
    assert "Prompt" not in [a.text() for a in menu.actions()]  # the prompt cannot be hidden

    path = tmp_path / "window-veo.png"
    assert window.grab().save(str(path)) and path.stat().st_size > 0


# --- the preview, the status log ----------------------------------------------------------------------------------
def test_the_preview_readies_the_selected_take_and_the_log_names_takes(open_window, tmp_path, qtbot):
    store = make_project(tmp_path / "p", ["a lighthouse", "a fox"])
    window = open_window(store.folder)
    tab = window.video_tab
    ids = [s.id for s in window.session.project.scenes]
    tab.scenes.select_ids([ids[0]])
    assert len(render_and_wait(qtbot, window).done) == 1
    preview = tab.preview
    assert preview.message() != "No clip" and "Take 1 · animatic" in preview.caption.text()
    assert preview.play_button.isEnabled() and preview.path is not None and preview.path.is_file()
    tab.scenes.select_ids([ids[1]])
    assert "no clip yet" in preview.message() and not preview.play_button.isEnabled()
    tab.scenes.select_ids([ids[0]])
    with qtbot.waitSignal(preview.started, timeout=10_000):
        preview.play_button.click()  # Play plays the selected scene's take
    preview.stop()

    log = tab.console.visible_text()
    take = window.session.project.scenes[0].selected_take
    assert f"Scene 1: done Take 1 · animatic · {take.rendered_seconds:g} s" in log
    assert take.clip_path not in log and "clips/" not in log  # no hash file names
    assert "Untitled" not in log and "imageai-untitled" not in log  # the scratch project of the start is not news
    assert f"Opened project “{store.project.name}”" in log


# --- the settings pages -------------------------------------------------------------------------------------------
def test_the_settings_pages_say_where_values_come_from(qtbot, monkeypatch):
    from gui.settings.dialog import SettingsDialog

    monkeypatch.setenv("IMAGEAI_FAL_URL", "http://127.0.0.1:9/fal")
    monkeypatch.setenv("FAL_KEY", "fal-test-key-123456")
    dialog = SettingsDialog(Settings(), device="no torch here")
    qtbot.addWidget(dialog)
    dialog.resize(800, 600)
    dialog.show()
    services = dialog.services
    assert services.url_edits["fal_url"].placeholderText() == "http://127.0.0.1:9/fal"
    note = services.env_notes["fal_url"].text()
    assert "http://127.0.0.1:9/fal" in note and "environment" in note and "IMAGEAI_FAL_URL" in note
    assert "replicate_url" not in services.env_notes
    assert services.url_edits["replicate_url"].placeholderText() == "the service's own address"
    assert dialog.result_settings().fal_url is None  # the environment's address is not written into the settings

    keys = dialog.keys
    assert keys.key_states["fal"].text() == "set, from the environment: FAL_KEY"
    assert keys.key_states["replicate"].text() == "not set"
    assert not any("((" in s.text() or "))" in s.text() for s in keys.key_states.values())
    dialog.tabs.setCurrentWidget(keys)
    QApplication.processEvents()
    edits = list(keys.key_edits.values())
    assert len({(e.x(), e.width()) for e in edits}) == 1  # one column of equal fields

    # the window's answer is shown at once: no "Looking for a GPU…"
    dialog.tabs.setCurrentWidget(dialog.local)
    assert "no torch here" in dialog.local.device_note.text()


def test_the_local_gpu_page_ends_with_an_answer(qtbot):
    """Without the window's answer the page checks itself (torch in a child process, with a time limit): the note
    ends with what was found or why nothing could be checked, never 'Looking for a GPU…'."""
    from gui.settings.dialog import SettingsDialog

    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    dialog.show()
    page = dialog.local
    with qtbot.waitSignal(page.device_checked, timeout=150_000):
        dialog.tabs.setCurrentWidget(page)
        assert page.device_note.text().startswith("Looking for a GPU")
    note = page.device_note.text()
    assert note and not note.startswith("Looking") and page.answer is not None
    assert note.startswith(("Found", "No CUDA or MPS device found", "No GPU check possible")), note
    assert page.device.findData("cpu") >= 0
