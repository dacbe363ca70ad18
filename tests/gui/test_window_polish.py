"""The window as a new user meets it (a QA run-through at 1280x800): closing asks before dropping or saving changes
when autosave is off; the table, the side panels and their combos fit 1280 px; the preview, the status log and the
settings pages say what is true."""
from __future__ import annotations

import json

from PySide6.QtWidgets import QComboBox, QMessageBox

from core.config import Settings
from tests.gui.conftest import make_project
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
