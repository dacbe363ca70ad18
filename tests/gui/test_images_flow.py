"""The image path through the window (pytest-qt, offscreen) against the Stability fake on 127.0.0.1: Generate Images
for three scenes, thumbnails from the new start frames, three variants for one scene as three takes in the variants
picker, choosing one (undoable), the cost confirmation, then Generate Videos (Animatic) and Export: the exported
frames show the generated images' pixels."""
from __future__ import annotations

import io
import subprocess

import pytest
from PySide6.QtCore import Qt

from core.video.media import ffmpeg_exe
from core.video.project import ImageChoice
from core.video.project_io import ProjectStore
from gui.video.scene_table_model import COL
from tests.gui.conftest import make_project, render_and_wait
from tests.images_support import stability_fake  # noqa: F401

PROMPTS = ["A red fox in the snow", "A lighthouse at dusk", "A train crossing a bridge"]


def _open(open_window, tmp_path, qtbot):
    store = make_project(tmp_path / "proj", PROMPTS)
    store.project.image = ImageChoice(provider="stability")
    store.save()
    window = open_window(store.folder)
    group = window.video_tab.images
    qtbot.waitUntil(lambda: group.ready, timeout=30_000)
    return store, window, group


def _generate_images(qtbot, group, timeout=60_000):
    group.update_estimate()
    assert group.generate_button.isEnabled()
    with qtbot.waitSignal(group.controller.finished, timeout=timeout) as blocker:
        qtbot.mouseClick(group.generate_button, Qt.LeftButton)
    return blocker.args[0]


def _rgb(image, x: float, y: float) -> tuple:
    w, h = image.size
    return image.convert("RGB").getpixel((int(w * x), int(h * y)))


def _frame_at(video, seconds: float):
    from PIL import Image
    out = subprocess.run([ffmpeg_exe(), "-v", "error", "-ss", f"{seconds}", "-i", str(video), "-frames:v", "1",
                          "-f", "image2pipe", "-vcodec", "png", "pipe:1"], capture_output=True, check=True, timeout=60)
    return Image.open(io.BytesIO(out.stdout))


def _near(a: tuple, b: tuple, tolerance: int = 24) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b))


def test_generate_images_then_videos_then_export_shows_the_images(open_window, tmp_path, qtbot, stability_fake):
    from PIL import Image

    store, window, group = _open(open_window, tmp_path, qtbot)
    tab = window.video_tab
    model = tab.scene_model
    assert "Stability AI — from $0.030 / image" in group.provider_combo.currentText()
    assert "$0.030 / image" in group.model_combo.currentText()
    qtbot.waitUntil(lambda: "3 image(s)" in group.estimate_label.text(), timeout=30_000)
    assert "$0.09" in group.estimate_label.text() and stability_fake.counts["submit_attempts"] == 0

    summary = _generate_images(qtbot, group)
    assert summary.ok and len(summary.takes) == 3, summary
    project = window.session.project
    assert all(s.start_frame and len(s.image_takes) == 1 for s in project.scenes)
    qtbot.waitUntil(lambda: all(model.data(model.index(r, COL["Thumbnail"]), Qt.DecorationRole) is not None
                                for r in range(3)), timeout=30_000)
    assert "Images started: 3 image(s) for 3 scene(s)" in tab.console.visible_text()
    assert "Images finished: 3 made" in tab.console.visible_text()

    tab.update_estimate()
    render = render_and_wait(qtbot, window)
    assert len(render.done) == 3, render
    with qtbot.waitSignal(tab.export_group.export_finished, timeout=120_000) as blocker:
        qtbot.mouseClick(tab.export_group.export_button, Qt.LeftButton)
    result = blocker.args[0]
    assert not isinstance(result, BaseException), result

    colours = []
    for i, scene in enumerate(project.scenes):
        with Image.open(store.resolve(scene.start_frame)) as im:
            outer, inner = _rgb(im, 0.01, 0.01), _rgb(im, 0.5, 0.5)
        colours.append((outer, inner))
        frame = _frame_at(result.output_path, i + 0.5)  # the middle of scene i (1 s scenes)
        assert _near(_rgb(frame, 0.5, 0.5), inner), (i, _rgb(frame, 0.5, 0.5), inner)
        assert _near(_rgb(frame, 0.1, 0.08), outer), (i, _rgb(frame, 0.1, 0.08), outer)
    assert len(set(colours)) == 3  # three different images, each in its own scene


def test_three_variants_are_three_takes_and_choosing_one_is_undoable(open_window, tmp_path, qtbot, stability_fake,
                                                                    settings):
    store, window, group = _open(open_window, tmp_path, qtbot)
    scene = window.session.project.scenes[0]
    window.video_tab.scenes.select_ids([scene.id])
    group.variants_spin.setValue(3)
    assert window.session.project.image.variants == 3  # the choice is the project's
    settings.confirm_cost_above = 0.05  # 3 x $0.03: asked first, as for video
    with qtbot.waitSignal(group.confirmation_requested, timeout=30_000) as asked:
        assert group.generate()
    dialog = asked.args[0]
    assert "3 image(s) for 1 scene(s)" in dialog.text() and "$0.09" in dialog.text()
    assert stability_fake.counts["submit_attempts"] == 0
    with qtbot.waitSignal(group.controller.finished, timeout=60_000):
        dialog.start_button.click()
    assert [t.role for t in scene.image_takes] == ["start"] * 3
    first, _, third = scene.image_takes
    assert scene.start_frame == first.path

    picker = group.show_variants()
    view = picker.lists["start"]
    assert view.count() == 3 and view.item(0).text().startswith("✓ chosen")
    assert all(not view.item(i).icon().isNull() for i in range(3))
    window.video_tab.grab().save(str(tmp_path / "tab.png"))
    picker.grab().save(str(tmp_path / "picker.png"))
    view.setCurrentRow(2)
    qtbot.mouseClick(picker.use_buttons["start"], Qt.LeftButton)
    assert scene.start_frame == third.path and scene.start_image_take_id == third.id
    assert view.item(2).text().startswith("✓ chosen")
    window.session.undo()
    assert scene.start_frame == first.path and picker.lists["start"].item(0).text().startswith("✓ chosen")
    window.session.redo()
    assert scene.start_frame == third.path
    assert ProjectStore.open(store.folder).project.scenes[0].image_takes[2].id == third.id  # saved as it arrived


@pytest.fixture
def settings():
    from core.config import Settings
    return Settings(autosave_interval_s=0, confirm_cost_above=100.0)
