"""The video tab at 1280x800 as a new user first sees it, with the scene inspector showing each kind of scene: the
window stays 1280 wide, the inspector is never cut off at its right edge and its widgets do not overlap, the table
shows at least eight rows, and the preview is large. Screenshots go to the test's folder, and to the folder named by
IMAGEAI_SCREENSHOTS when set (Docs/images/inspector-*.png are made that way)."""
from __future__ import annotations

import os
from itertools import combinations
from pathlib import Path

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication, QGroupBox, QWidget

from core.config import Settings
from core.video.project import Scene
from core.video.project_io import ProjectStore
from core.video.render_settings import RenderSettings
from gui.video.scene_inspector import EXTEND_PREVIOUS, TRANSFORM
from tests.fakes.clips import write_clip, write_image
from tests.gui.helpers import estimate
from tests.gui.test_inspector_flow import choose

PROMPTS = ["a fox runs through snow", "the fox stops at a frozen lake", "the lake at night, painted",
           "a tin-roofed hut in the rain"]


@pytest.fixture
def film(tmp_path, monkeypatch) -> ProjectStore:
    monkeypatch.setenv("FAL_KEY", "fal-test-key-0001")
    monkeypatch.setenv("IMAGEAI_FAL_URL", "http://127.0.0.1:9")  # nothing is sent: the estimate is local
    store = ProjectStore.create(tmp_path / "film", "film")
    store.project.render = RenderSettings(provider="ltx-video", deployment="fal", model="ltx-2-19b",
                                          resolution="480p", fps=24)
    store.project.scenes = [Scene(title=f"Shot {i + 1}", prompt=p, duration=4.0) for i, p in enumerate(PROMPTS * 2)]
    store.save()
    return store


def _visible_children(box: QWidget) -> list[QWidget]:
    return [w for w in box.findChildren(QWidget) if w.parentWidget() is box and w.isVisible()]


def _check(qtbot, window, name: str, tmp_path: Path) -> None:
    estimate(qtbot, window)  # the cost line and the plan's notes are part of the picture
    qtbot.waitUntil(lambda: not window.video_tab.inspector.thumbs._pending)  # thumbnails come from a worker
    QApplication.processEvents()
    tab = window.video_tab
    assert window.width() == 1280 and window.height() == 800
    scroll, inspector = tab.inspector_scroll, tab.inspector
    assert inspector.width() <= scroll.viewport().width(), "the inspector is cut off at the right"
    assert inspector.minimumSizeHint().width() <= scroll.viewport().width()
    for box in [inspector] + inspector.findChildren(QGroupBox):
        kids = _visible_children(box)
        for w in kids:
            where = box.title() if isinstance(box, QGroupBox) else "the inspector"
            assert w.geometry().right() < box.width(), \
                f"{name}: {w.objectName() or type(w).__name__} sticks out of {where}"
        for a, b in combinations(kids, 2):
            overlap = QRect(a.geometry()).intersected(b.geometry())
            assert overlap.isEmpty(), f"{name}: {a.objectName() or type(a).__name__} overlaps " \
                                      f"{b.objectName() or type(b).__name__}"
    table = tab.scenes.table
    assert table.viewport().height() >= 8 * table.verticalHeader().defaultSectionSize()
    assert tab.preview.width() >= 600 and tab.preview.height() >= 230  # was 330x186 beside the console
    image = window.grab()
    image.save(str(tmp_path / f"{name}.png"))
    out = os.environ.get("IMAGEAI_SCREENSHOTS")
    if out:
        image.save(str(Path(out) / f"{name}.png"))


def test_the_inspector_at_1280x800_for_each_kind_of_scene(open_window, film, tmp_path, qtbot):
    keys = [write_image(tmp_path / f"key{i}.png", (160, 90), noise=True) for i in range(3)]
    source = write_clip(tmp_path / "source.mp4", 3.0, 24)
    window = open_window(film.folder, Settings(autosave_interval_s=0, confirm_cost_above=100.0))
    tab, insp = window.video_tab, window.video_tab.inspector
    ids = [s.id for s in window.session.project.scenes]

    tab.scenes.select_ids([])
    _check(qtbot, window, "inspector-none", tmp_path)
    assert "Select one scene" in insp.header.text() and not insp.mode.isEnabled()

    tab.scenes.select_ids([ids[0]])
    choose(insp.settings.model, "ltx-video-13b")
    insp.start.chosen.emit(str(keys[0]))
    insp.add_keyframes([str(keys[1])], 1.5)
    insp.add_keyframes([str(keys[2])], 3.0)
    insp.keyframes.strip.select(1)
    _check(qtbot, window, "inspector-keyframes", tmp_path)

    tab.scenes.select_ids([ids[1]])
    choose(insp.mode, EXTEND_PREVIOUS)
    choose(insp.direction, "backward")
    _check(qtbot, window, "inspector-extend-previous", tmp_path)

    tab.scenes.select_ids([ids[2]])
    choose(insp.mode, TRANSFORM)
    insp.video.chosen.emit(str(source))
    qtbot.waitUntil(lambda: not insp.importing)
    _check(qtbot, window, "inspector-transform", tmp_path)

    tab.scenes.select_ids([ids[3]])
    form = insp.settings
    choose(form.motion, "dolly_forward")
    form.speed.setValue(1.5)
    choose(form.audio, "on")
    form.audio_prompt.setText("rain drumming on a tin roof")
    form.audio_prompt.editingFinished.emit()
    bar = tab.inspector_scroll.verticalScrollBar()
    bar.setValue(bar.maximum())  # the scene's own render settings, at the bottom of the panel
    _check(qtbot, window, "inspector-camera-audio", tmp_path)
    assert window.session.project.scene(ids[3]).render.camera_motion == "dolly_forward"


def test_the_splitters_keep_their_place_across_a_restart(open_window, film):
    window = open_window(film.folder, Settings(autosave_interval_s=0, confirm_cost_above=100.0))
    tab = window.video_tab
    tab.board_splitter.setSizes([520, 440])  # a wider inspector
    tab.bottom_splitter.setSizes([560, 400])  # a wider console
    board, bottom = tab.board_splitter.sizes(), tab.bottom_splitter.sizes()
    window.close()

    from gui.main_window import MainWindow

    again = MainWindow(Settings(autosave_interval_s=0, confirm_cost_above=100.0), open_last=False)
    try:
        again.resize(1280, 800)
        again.show()
        QApplication.processEvents()
        assert again.video_tab.board_splitter.sizes() == board
        assert again.video_tab.bottom_splitter.sizes() == bottom
    finally:
        again.close()
