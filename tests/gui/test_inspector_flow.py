"""The scene inspector end to end: through its widgets, keyframes on scene 1 (dropped, dragged, removed, undone),
extend-previous (backward) on scene 2, video-to-video on scene 3, camera motion with speed and an audio prompt on
scene 4; all four render through the fal fake, which is asked for the endpoint and fields each setting maps to; the
project is reopened and every setting is found again, in the file and in the inspector."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QComboBox

from core.config import Settings
from core.video.project import Scene
from core.video.project_io import ProjectStore
from core.video.render_settings import RenderSettings
from gui.video import combo_utils
from gui.video.scene_inspector import EXTEND_PREVIOUS, GENERATE, TRANSFORM
from tests.fakes.clips import write_clip, write_image
from tests.gui.conftest import render_and_wait
from tests.test_ltx_support import fal  # noqa: F401  (the fal fake fixture)

PROMPTS = ["a fox runs through snow", "the fox stops at a frozen lake", "the lake at night, painted",
           "a tin-roofed hut in the rain"]


@pytest.fixture
def project(tmp_path) -> ProjectStore:
    store = ProjectStore.create(tmp_path / "film", "film")
    store.project.render = RenderSettings(provider="ltx-video", deployment="fal", model="ltx-2-19b",
                                          resolution="480p", fps=24)
    store.project.scenes = [Scene(title=f"Shot {i + 1}", prompt=p, duration=2.0) for i, p in enumerate(PROMPTS)]
    store.save()
    return store


def choose(combo: QComboBox, data) -> None:
    """What a click on an item does: the enabled item with this data becomes current."""
    index = combo.findData(data)
    assert index >= 0, f"{data!r} not offered by {combo.objectName()}"
    assert combo.isEnabled() and combo_utils.is_enabled(combo, index), combo_utils.reason(combo, index)
    combo.setCurrentIndex(index)


def drop(widget, files: list[Path], x: float) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(f)) for f in files])
    event = QDropEvent(QPointF(x, widget.height() / 2), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    widget.dropEvent(event)  # the handler a drop ends in (QApplication delivers a Drop only inside a real drag)
    assert event.isAccepted()


def test_every_inspector_setting_renders_on_fal_and_survives_reopening(open_window, project, fal, tmp_path, qtbot):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    keys = [write_image(inputs / f"key{i}.png", (64 + 8 * i, 36)) for i in range(3)]
    source = write_clip(inputs / "source.mp4", 3.0, 24)
    window = open_window(project.folder, Settings(autosave_interval_s=0, confirm_cost_above=100.0,
                                                  poll_interval_s=0.05))
    tab = window.video_tab
    inspector = tab.inspector
    ids = [s.id for s in window.session.project.scenes]

    def scene(n: int) -> Scene:
        return window.session.project.scene(ids[n - 1])

    # --- scene 1: its own model (keyframes need LTX-Video 13B on fal), three keyframes dropped, one dragged,
    # one removed (Delete), the removal undone and redone
    tab.scenes.select_ids([ids[0]])
    assert inspector.scene_id == ids[0] and "Scene 1" in inspector.header.text()
    choose(inspector.settings.model, "ltx-video-13b")
    assert scene(1).render.model == "ltx-video-13b"
    audio = inspector.settings.audio  # LTX-Video 13B makes no sound: greyed out, naming models that do
    assert not audio.isEnabled() and "Offered by" in audio.toolTip() and "LTX-2" in audio.toolTip(), audio.toolTip()
    strip = inspector.keyframes.strip
    drop(strip, keys[:2], strip.x_of(0.5))  # two files: the first where dropped, the second in the largest gap
    drop(strip, keys[2:], strip.x_of(1.8))
    assert [k.seconds for k in scene(1).keyframes] == [0.5, pytest.approx(1.2), 1.8], tab.console.visible_text()
    assert all(k.image.startswith("images/") and (project.folder / k.image).is_file() for k in scene(1).keyframes)
    start = strip._thumb_rect(0).center().toPoint()
    qtbot.mousePress(strip, Qt.LeftButton, pos=start)
    qtbot.mouseMove(strip, QPoint(int(strip.x_of(0.8)), start.y()))
    qtbot.mouseRelease(strip, Qt.LeftButton, pos=QPoint(int(strip.x_of(0.8)), start.y()))
    assert [k.seconds for k in scene(1).keyframes] == [pytest.approx(0.8), pytest.approx(1.2), 1.8]
    strip.select(1)
    qtbot.keyClick(strip, Qt.Key_Delete)
    assert [k.seconds for k in scene(1).keyframes] == [pytest.approx(0.8), 1.8]
    window.session.undo()
    assert len(scene(1).keyframes) == 3 and len(strip.items) == 3  # the strip follows the undo
    window.session.redo()
    assert [k.seconds for k in scene(1).keyframes] == [pytest.approx(0.8), 1.8]
    # the time box moves the chosen keyframe exactly
    strip.select(1)
    inspector.keyframes.time.setValue(1.6)
    inspector.keyframes.time.editingFinished.emit()
    assert [k.seconds for k in scene(1).keyframes] == [pytest.approx(0.8), pytest.approx(1.6)]

    # --- scene 2: extends scene 1's clip, backward; the first scene cannot extend a previous one
    tab.scenes.select_ids([ids[0]])
    mode = inspector.mode
    assert not combo_utils.is_enabled(mode, mode.findData(EXTEND_PREVIOUS))
    assert "first scene" in combo_utils.reason(mode, mode.findData(EXTEND_PREVIOUS))
    tab.scenes.select_ids([ids[1]])
    assert not inspector.direction.isVisible()  # only an extending scene has a direction
    choose(mode, EXTEND_PREVIOUS)
    assert scene(2).extend_scene_id == ids[0]
    choose(inspector.direction, "backward")
    assert scene(2).render.options == {"extend_direction": "backward"}
    assert "scene 1" in inspector.chain_note.text()

    # --- scene 3: transforms a source video (typed into the picker; copied into clips/)
    tab.scenes.select_ids([ids[2]])
    choose(mode, TRANSFORM)
    assert scene(3).source_video is None  # nothing changes until the video is given
    assert inspector.video.isVisible()
    inspector.video.path.setText(str(source))
    inspector.video.path.editingFinished.emit()
    qtbot.waitUntil(lambda: not inspector.importing)  # probed and copied on a worker thread
    assert scene(3).source_video == "clips/source.mp4" and (project.folder / "clips/source.mp4").is_file()

    # --- scene 4: camera motion with a speed, audio on with an audio prompt, a negative prompt
    tab.scenes.select_ids([ids[3]])
    form = inspector.settings
    assert not form.speed.isEnabled()  # no motion yet: a speed has nothing to act on
    choose(form.motion, "dolly_forward")
    assert form.speed.isEnabled()
    form.speed.setValue(1.5)
    choose(form.audio, "on")
    form.audio_prompt.setText("rain drumming on a tin roof")
    form.audio_prompt.editingFinished.emit()
    form.negative.setText("people, text")
    form.negative.editingFinished.emit()
    own = scene(4).render
    assert (own.camera_motion, own.camera_speed, own.include_audio) == ("dolly_forward", 1.5, True)
    assert own.audio_prompt == "rain drumming on a tin roof" and own.negative_prompt == "people, text"

    # --- render all four through the fal fake (scene 2 waits for scene 1's clip)
    tab.scenes.select_ids([])
    summary = render_and_wait(qtbot, window)
    assert sorted(summary.done) == sorted(ids), tab.console.visible_text()
    jobs = {next(i for i, p in enumerate(PROMPTS) if p in (j["body"].get("prompt") or "")) + 1: j
            for j in fal.jobs.values()}
    assert sorted(jobs) == [1, 2, 3, 4] and len(fal.jobs) == 4, [j["app"] for j in fal.jobs.values()]

    one = jobs[1]
    assert one["app"] == "fal-ai/ltx-video-13b-distilled/multiconditioning"
    assert [i["start_frame_num"] for i in one["body"]["images"]] == [16, 40]  # 0.8 s and 1.6 s at 24 fps, on 8s
    two = jobs[2]
    assert two["app"] == "fal-ai/ltx-2-19b/extend-video" and two["body"]["extend_direction"] == "backward"
    clip1 = ProjectStore.open(project.folder).project.scene(ids[0]).selected_take.clip_path
    assert fal.resolve(two["body"]["video_url"]) == (project.folder / clip1).read_bytes()  # scene 1's very clip
    three = jobs[3]
    assert three["app"] == "fal-ai/ltx-2-19b/video-to-video" and three["body"]["match_video_length"] is True
    assert fal.resolve(three["body"]["video_url"]) == source.read_bytes()
    four = jobs[4]["body"]
    assert jobs[4]["app"] == "fal-ai/ltx-2-19b/text-to-video"
    assert (four["camera_lora"], four["camera_lora_scale"], four["generate_audio"]) == ("dolly_in", 1.5, True)
    assert four["prompt"].endswith("Audio: rain drumming on a tin roof.") or \
        "Audio: rain drumming on a tin roof" in four["prompt"]
    assert four["negative_prompt"] == "people, text"

    # --- saved, reopened: every setting is in the file and shown again by the inspector
    assert window.save()
    saved = {s["id"]: s for s in json.loads((project.folder / "project.json").read_text())["scenes"]}
    assert [k["seconds"] for k in saved[ids[0]]["keyframes"]] == [pytest.approx(0.8), pytest.approx(1.6)]
    assert saved[ids[1]]["extend_scene_id"] == ids[0]
    window.close()
    again = open_window(project.folder, Settings(autosave_interval_s=0, confirm_cost_above=100.0))
    insp = again.video_tab.inspector
    again.video_tab.scenes.select_ids([ids[0]])
    assert [round(t, 2) for t, _, _ in insp.keyframes.strip.items] == [0.8, 1.6]
    assert insp.settings.model.currentData() == "ltx-video-13b" and insp.mode.currentData() == GENERATE
    again.video_tab.scenes.select_ids([ids[1]])
    assert insp.mode.currentData() == EXTEND_PREVIOUS and insp.direction.currentData() == "backward"
    again.video_tab.scenes.select_ids([ids[2]])
    assert insp.mode.currentData() == TRANSFORM and insp.video.path.text() == "clips/source.mp4"
    again.video_tab.scenes.select_ids([ids[3]])
    f = insp.settings
    assert (f.motion.currentData(), f.speed.value(), f.audio.currentData()) == ("dolly_forward", 1.5, "on")
    assert f.audio_prompt.text() == "rain drumming on a tin roof" and f.negative.text() == "people, text"
