"""SetSceneFields: several fields of one scene as one undo step; inputs are cleared before others are set (a scene
takes one video input at a time), and a step that fails leaves the scene as it was."""
from __future__ import annotations

import pytest

from core.errors import InvalidRequestError
from core.video.project import Scene, VideoProject
from core.video.scene_edit_group import SetSceneFields
from core.video.scene_edits import EditHistory


def _project() -> VideoProject:
    return VideoProject(scenes=[Scene(prompt="a"), Scene(prompt="b", extend_video="clips/x.mp4")])


def test_one_undo_step_for_several_fields_cleared_first():
    project = _project()
    a, b = project.scenes
    history = EditHistory(project)
    # setting the link while extend_video is still set would be refused: the clear goes first
    history.push(SetSceneFields(b.id, {"extend_scene_id": a.id, "extend_video": None}, "Extend the previous scene"))
    assert (b.extend_scene_id, b.extend_video) == (a.id, None)
    assert history.undo_text() == "Extend the previous scene"
    history.undo()
    assert (b.extend_scene_id, b.extend_video) == (None, "clips/x.mp4")
    history.redo()
    assert (b.extend_scene_id, b.extend_video) == (a.id, None)


def test_a_failing_step_changes_nothing():
    project = _project()
    a, b = project.scenes
    with pytest.raises(InvalidRequestError):
        EditHistory(project).push(SetSceneFields(b.id, {"extend_video": None, "extend_scene_id": b.id}))
    assert (b.extend_scene_id, b.extend_video) == (None, "clips/x.mp4")  # the clear was undone too


def test_only_editable_fields():
    with pytest.raises(InvalidRequestError) as err:
        SetSceneFields("x", {"takes": []})
    assert "takes" in str(err.value)
