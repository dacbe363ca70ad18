"""The scene inspector's edits one by one (Animatic, no network): a mode switch is one undo step that clears the
other video inputs, a file that is no image or no video is refused with the reason and changes nothing, two
keyframes never share a time, the per-scene provider drops the model of the old one, a removed parent shows in the
inspector, and the inspector follows undo, redo and the table's selection."""
from __future__ import annotations

import pytest

from core.video.scene_edit_group import SetSceneFields
from core.video.scene_edits import DeleteScenes, SetSceneField
from gui.video.scene_inspector import EXTEND_CLIP, EXTEND_PREVIOUS, GENERATE, TRANSFORM
from tests.fakes.clips import write_clip, write_image
from tests.gui.conftest import make_project
from tests.gui.test_inspector_flow import choose


@pytest.fixture
def opened(open_window, tmp_path):
    store = make_project(tmp_path / "p", ["one", "two", "three"], duration=4.0)
    window = open_window(store.folder)
    return window, [s.id for s in window.session.project.scenes]


def test_a_mode_switch_is_one_undo_step_and_clears_the_other_inputs(opened, tmp_path, qtbot):
    window, ids = opened
    tab, insp = window.video_tab, window.video_tab.inspector
    clip = write_clip(tmp_path / "take.mp4", 2.0, 24)
    tab.scenes.select_ids([ids[1]])
    choose(insp.mode, EXTEND_CLIP)
    assert insp.video.isVisible() and "Choose the video" in insp.chain_note.text()
    insp.video.chosen.emit(str(clip))
    qtbot.waitUntil(lambda: not insp.importing)  # probed and copied on a worker thread
    scene = window.session.project.scene(ids[1])
    assert scene.extend_video == "clips/take.mp4" and scene.extend_scene_id is None
    choose(insp.direction, "backward")
    choose(insp.mode, EXTEND_PREVIOUS)  # one edit: the clip goes, the link comes, the direction stays
    assert (scene.extend_video, scene.extend_scene_id) == (None, ids[0])
    assert scene.render.options == {"extend_direction": "backward"}
    assert window.session.history.undo_text() == "Extend the previous scene"
    window.session.undo()
    assert (scene.extend_video, scene.extend_scene_id) == ("clips/take.mp4", None)
    assert insp.mode.currentData() == EXTEND_CLIP and insp.video.path.text() == "clips/take.mp4"
    window.session.redo()
    assert insp.mode.currentData() == EXTEND_PREVIOUS
    choose(insp.mode, GENERATE)  # generating needs no direction: it goes too
    assert (scene.extend_video, scene.extend_scene_id, scene.source_video) == (None, None, None)
    assert scene.render.options == {}


def test_files_that_cannot_be_used_are_refused_with_the_reason(opened, tmp_path, qtbot):
    window, ids = opened
    tab, insp = window.video_tab, window.video_tab.inspector
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    tab.scenes.select_ids([ids[0]])
    insp.start.chosen.emit(str(text))
    insp.add_keyframes([str(text)], 1.0)
    choose(insp.mode, TRANSFORM)
    for video in (text, tmp_path / "nowhere.mp4"):
        insp.video.chosen.emit(str(video))
        qtbot.waitUntil(lambda: not insp.importing)
    scene = window.session.project.scene(ids[0])
    assert (scene.start_frame, scene.keyframes, scene.source_video) == (None, [], None)
    console = tab.console.visible_text()
    assert "start_frame: notes.png is not an image this app can use" in console
    assert "keyframes: notes.png is not an image" in console
    assert "source_video: notes.png is not a video this app can use" in console
    assert "nowhere.mp4 is no file" in console
    assert not window.session.history.can_undo()  # nothing was changed


def test_keyframes_never_share_a_time_and_stay_inside_the_scene(opened, tmp_path):
    window, ids = opened
    tab, insp = window.video_tab, window.video_tab.inspector
    a, b, c = (write_image(tmp_path / f"{n}.png") for n in "abc")
    tab.scenes.select_ids([ids[0]])
    insp.add_keyframes([str(a)], 1.0)
    insp.add_keyframes([str(b)], 3.0)
    insp.add_keyframes([str(c)])  # no time given: the middle of the largest gap (1.0 to 3.0)
    scene = window.session.project.scene(ids[0])
    assert [k.seconds for k in scene.keyframes] == [1.0, 2.0, 3.0]
    insp.move_keyframe(0, 2.0)
    assert [k.seconds for k in scene.keyframes] == [1.0, 2.0, 3.0]
    assert "another keyframe is at 2 s" in tab.console.visible_text()
    insp.add_keyframes([str(c)], 3.0)  # at the same time: it replaces that keyframe (as the CLI's --keyframe)
    assert [k.seconds for k in scene.keyframes] == [1.0, 2.0, 3.0] and scene.keyframes[2].image == "images/c.png"
    strip = insp.keyframes.strip
    assert strip.time_at(strip.width() + 50) == pytest.approx(4.0)  # a drop past the end lands at the end
    assert strip.time_at(-20) == 0.0


def test_the_scene_provider_and_model(opened):
    window, ids = opened
    tab, insp = window.video_tab, window.video_tab.inspector
    tab.scenes.select_ids([ids[2]])
    form = insp.settings
    assert form.provider.currentData() == "" and form.provider.currentText() == "Project default (Animatic)"
    choose(form.model, "animatic")
    scene = window.session.project.scene(ids[2])
    assert scene.render.model == "animatic"
    choose(form.provider, "animatic")  # the project's provider named for the scene: its model stays
    assert (scene.render.provider, scene.render.model) == ("animatic", "animatic")
    assert form.model.currentData() == "animatic"
    choose(form.provider, "")  # back to the project's: the scene's model goes with it (SetSceneProvider's rule)
    assert (scene.render.provider, scene.render.model) == (None, None)
    assert form.model.currentText().startswith("Project default (")
    window.session.undo()
    assert (scene.render.provider, scene.render.model) == ("animatic", "animatic")
    assert form.provider.currentData() == "animatic"


def test_the_inspector_follows_the_selection_and_a_removed_parent(opened):
    window, ids = opened
    tab, insp = window.video_tab, window.video_tab.inspector
    tab.scenes.select_ids([ids[0]])
    tab.scenes.table.selectAll()  # two or more scenes: nothing to inspect
    assert insp.scene_id is None and "Select one scene" in insp.header.text()
    window.session.apply(SetSceneFields(ids[2], {"extend_scene_id": ids[0]}))
    tab.scenes.select_ids([ids[2]])
    assert insp.mode.currentData() == EXTEND_PREVIOUS
    assert insp.mode.currentText() == "Extend scene 1's clip"  # not the previous scene: named by its number
    window.session.apply(SetSceneField(ids[2], "title", "Finale"))
    assert "Finale" in insp.header.text()
    window.session.apply(DeleteScenes([ids[0]]))
    tab.scenes.select_ids([ids[2]])
    assert insp.mode.currentData() == GENERATE  # the delete cleared the link (undoable)
    window.session.undo()
    tab.scenes.select_ids([ids[2]])
    assert insp.mode.currentData() == EXTEND_PREVIOUS


def test_a_video_copied_meanwhile_lands_on_the_scene_it_was_given_for(opened, tmp_path, qtbot):
    window, ids = opened
    tab, insp = window.video_tab, window.video_tab.inspector
    clip = write_clip(tmp_path / "long.mp4", 2.0, 24)
    tab.scenes.select_ids([ids[1]])
    choose(insp.mode, TRANSFORM)
    insp.video.chosen.emit(str(clip))  # copied on a worker; its answer arrives through the event loop
    assert insp.importing and "Copying long.mp4" in insp.chain_note.text()
    tab.scenes.select_ids([ids[2]])  # the user moves on before the copy is done
    qtbot.waitUntil(lambda: not insp.importing)
    project = window.session.project
    assert project.scene(ids[1]).source_video is None and project.scene(ids[2]).source_video is None
    assert not window.session.history.can_undo()
