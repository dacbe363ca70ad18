"""Scene edits: every change can be undone and redone, bad values change nothing, and the result saves and reloads."""
from __future__ import annotations

import pytest

from core.errors import InvalidRequestError
from core.video.project import ReferenceImage, Scene, Take, VideoProject
from core.video.project_io import ProjectStore
from core.video.scene_edits import (AddScene, DeleteScenes, DuplicateScene, EditHistory, MoveScene, SelectTake,
                                    SetProjectReferences, SetSceneField, SetSceneProvider)
from core.video.render_settings import RenderSettings


def _project(n: int = 3) -> VideoProject:
    return VideoProject(scenes=[Scene(id=f"s{i}", prompt=f"prompt {i}") for i in range(n)])


def _ids(p: VideoProject) -> list[str]:
    return [s.id for s in p.scenes]


def test_add_delete_move_duplicate_undo_redo():
    p = _project()
    h = EditHistory(p)
    h.push(AddScene(index=1, scene=Scene(id="new", prompt="inserted")))
    assert _ids(p) == ["s0", "new", "s1", "s2"]
    h.push(DeleteScenes(["s0", "s2"]))
    assert _ids(p) == ["new", "s1"]
    h.push(MoveScene("s1", 0))
    assert _ids(p) == ["s1", "new"]
    dup = h.push(DuplicateScene("s1"))
    assert _ids(p) == ["s1", dup.copy_id, "new"]
    assert p.scenes[1].prompt == "prompt 1" and p.scenes[1].takes == []
    for expected in (["s1", "new"], ["new", "s1"], ["s0", "new", "s1", "s2"], ["s0", "s1", "s2"]):
        h.undo()
        assert _ids(p) == expected
    assert not h.can_undo() and h.undo() is None
    for _ in range(4):
        h.redo()
    assert _ids(p) == ["s1", dup.copy_id, "new"]


def test_set_field_validates_and_undoes():
    p = _project()
    h = EditHistory(p)
    h.push(SetSceneField("s1", "prompt", "a red fox"))
    assert p.scene("s1").prompt == "a red fox"
    assert h.undo_text() == "Edit prompt"
    with pytest.raises(InvalidRequestError, match="duration"):
        h.push(SetSceneField("s1", "duration", -3))
    assert p.scene("s1").duration == 5.0
    with pytest.raises(InvalidRequestError, match="allowed"):
        SetSceneField("s1", "takes", [])
    with pytest.raises(InvalidRequestError, match="start_frame"):
        h.push(SetSceneField("s1", "start_frame", "../outside.png"))
    h.undo()
    assert p.scene("s1").prompt == "prompt 1"
    h.redo()
    assert p.scene("s1").prompt == "a red fox"


def test_unknown_scene_names_the_allowed_ids():
    p = _project(2)
    with pytest.raises(InvalidRequestError, match="s0, s1"):
        EditHistory(p).push(DeleteScenes(["nope"]))
    with pytest.raises(InvalidRequestError, match="new_index"):
        EditHistory(p).push(MoveScene("s0", 5))


def test_references_limit_and_select_take():
    p = _project(1)
    h = EditHistory(p)
    refs = [ReferenceImage(path=f"references/{i}.png") for i in range(3)]
    h.push(SetProjectReferences(refs))
    assert len(p.reference_images) == 3
    with pytest.raises(InvalidRequestError, match="at most 3"):
        SetProjectReferences(refs + [ReferenceImage(path="references/x.png")])
    p.scenes[0].takes = [Take(id="t1", provider="animatic"), Take(id="t2", provider="animatic")]
    h.push(SelectTake("s0", "t2"))
    assert p.scenes[0].selected_take.id == "t2"
    with pytest.raises(InvalidRequestError, match="t1, t2"):
        h.push(SelectTake("s0", "t9"))
    h.undo()
    assert p.scenes[0].selected_take_id is None


def test_clean_state_and_saved_result(tmp_path):
    store = ProjectStore.create(tmp_path / "proj", "p")
    changes = []
    h = EditHistory(store.project, lock=store._lock, on_change=lambda e, a: changes.append((e.text, a)))
    h.push(AddScene(prompt="first"))
    assert not h.is_clean()
    store.save()
    h.mark_clean()
    assert h.is_clean()
    assert changes == [("Add scene", "do")]
    assert ProjectStore.open(tmp_path / "proj").project.scenes[0].prompt == "first"


def test_scene_provider_override_clears_the_model_and_undoes():
    p = _project(2)
    p.render = RenderSettings(provider="ltx-video", model="ltx-2-pro", deployment="fal")
    h = EditHistory(p)
    h.push(SetSceneField("s0", "render", RenderSettings(model="ltx-2-fast", seed=7, options={"guidance_scale": 3})))
    h.push(SetSceneProvider("s0", "ltx-video"))  # the same provider: its model stays
    assert p.scene("s0").render == RenderSettings(provider="ltx-video", model="ltx-2-fast", seed=7,
                                                  options={"guidance_scale": 3})
    h.push(SetSceneProvider("s0", "animatic"))  # another provider: model and options belong to the old one
    assert p.scene("s0").render == RenderSettings(provider="animatic", seed=7)
    assert h.undo_text() == "Change scene provider"
    settings = p.scene_settings(p.scene("s0")).settings
    # the project's LTX model and deployment do not follow the scene to Animatic
    assert (settings.provider, settings.model, settings.deployment, settings.seed) == ("animatic", None, None, 7)
    assert p.scene_settings(p.scene("s1")).settings.model == "ltx-2-pro"
    h.push(SetSceneProvider("s0", None))  # project default: provider and model go, the seed stays
    assert p.scene("s0").render == RenderSettings(seed=7)
    h.undo()
    assert p.scene("s0").render.provider == "animatic"
    h.undo()
    h.undo()
    assert p.scene("s0").render == RenderSettings(model="ltx-2-fast", seed=7, options={"guidance_scale": 3})
    h.redo()
    h.redo()
    assert p.scene("s0").render == RenderSettings(provider="animatic", seed=7)
    # nothing else set: back to the project default leaves the scene's settings empty
    h.push(SetSceneProvider("s1", "animatic"))
    h.push(SetSceneProvider("s1", ""))
    assert p.scene("s1").render.is_empty()
    h.undo()
    assert p.scene("s1").render == RenderSettings(provider="animatic")
