"""Fixtures for the GUI tests (pytest-qt, offscreen): a main window on a fresh project, and helpers that wait for
renders and exports through the window's own signals."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from core.config import Settings
from core.video.project import Scene
from core.video.project_io import ProjectStore

PICKY = "picky=tests.gui.picky_provider:PickyProvider"


def make_project(folder: Path, prompts: list[str], provider: str = "animatic", duration: float = 1.0,
                 **render) -> ProjectStore:
    store = ProjectStore.create(folder, folder.name)
    store.project.render = store.project.render.model_validate(
        {**store.project.render.model_dump(), "provider": provider, "resolution": "480p", "fps": 24,
         "duration": duration, **render})
    store.project.scenes = [Scene(title=f"Scene {i + 1}", prompt=p, duration=duration) for i, p in enumerate(prompts)]
    store.save()
    return store


def qt_multimedia_problem() -> str | None:
    """Why PySide6.QtMultimedia cannot be imported here (e.g. libpulse0 missing: an ImportError that is no
    ModuleNotFoundError, which pytest.importorskip does not skip), or None."""
    try:
        import PySide6.QtMultimedia  # noqa: F401
    except (ImportError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture
def qt_multimedia() -> None:
    """Skips a test that plays with QtMultimedia where the module cannot load; the app falls back there."""
    problem = qt_multimedia_problem()
    if problem:
        pytest.skip(f"QtMultimedia cannot load on this machine ({problem}); the preview uses FFmpeg frames here "
                    f"(tested by test_falls_back_to_ffmpeg_frames_without_a_multimedia_backend)")


@pytest.fixture
def settings() -> Settings:
    # autosave off: the tests save explicitly; no cost question below $100 unless a test lowers it
    return Settings(autosave_interval_s=0, confirm_cost_above=100.0)


@pytest.fixture
def open_window(qtbot, settings):
    """open_window(folder or None) -> a shown MainWindow whose providers have been checked."""
    windows = []

    def _open(folder: Path | None = None, window_settings: Settings | None = None):
        from gui.main_window import MainWindow

        window = MainWindow(window_settings or settings, open_last=False)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        if folder is not None:
            assert window.open_project(folder)
        qtbot.waitUntil(lambda: window.video_tab.render_group.ready, timeout=60_000)
        windows.append(window)
        return window

    yield _open
    for w in windows:
        if w.isVisible():
            w.close()
        if w.close_question is not None:  # changes a test left unsaved are not kept (autosave is off)
            w.close_question.button(QMessageBox.Discard).click()


def render_and_wait(qtbot, window, timeout: int = 120_000):
    """Click Generate Videos and wait for the run to finish; returns the RenderSummary (or exception)."""
    from PySide6.QtCore import Qt

    tab = window.video_tab
    tab.update_estimate()  # the estimate that enables the button otherwise follows 250 ms after a change
    assert tab.generate_button.isEnabled(), tab.cost_label.text()
    with qtbot.waitSignal(tab.controller.finished, timeout=timeout) as blocker:
        qtbot.mouseClick(tab.generate_button, Qt.LeftButton)
    return blocker.args[0]
