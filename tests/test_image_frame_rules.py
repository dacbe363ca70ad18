"""Frames the scene's video model cannot use are not bought: `project images` (and plan_images, which the GUI runs)
asks each scene's video plan first, with the prepare the render uses; a refused frame names the scene, the model,
the models that take it and the way out, every scene at once, nothing sent to the image service. The render's own
refusal of such a frame names the way out too."""
from __future__ import annotations

import pytest

from core.config import Settings
from core.errors import InvalidRequestError
from core.images.frame_rules import FrameProblem
from core.images.takes import plan_images
from core.video.project import ReferenceImage, Scene
from core.video.project_io import ProjectStore
from providers.images.registry import get_image
from providers.video_offers import video_models
from tests.cli_helpers import make_image, run_cli, run_json
from tests.gui.conftest import open_window, settings  # noqa: F401  (the window fixtures)
from tests.images_support import openai_fake  # noqa: F401


def _race(tmp_path) -> str:
    """The QA project: ltx-2-fast on fal, three scenes; scene 3 on ltx-2.3-fast (which takes end frames)."""
    folder = str(tmp_path / "race")
    run_json("project", "new", folder, "--provider", "ltx-video", "--model", "ltx-2-fast", "--deployment", "fal")
    for p in ("a red fox", "a lighthouse", "a train"):
        run_json("project", "add-scene", folder, "-p", p, "--duration", "6")
    run_json("project", "edit-scene", folder, "3", "--model", "ltx-2.3-fast")
    return folder


def test_end_frames_for_models_without_them_are_refused_before_anything_is_bought(openai_fake, tmp_path):
    folder = _race(tmp_path)
    for extra in ([], ["--estimate"]):
        proc = run_cli("project", "images", folder, "--provider", "openai", "--variants", "2", "--end-frames",
                       *extra)
        assert proc.returncode == 2, proc.stderr
        err = proc.stderr
        for n in (1, 2):  # every refused scene at once, each naming its model and who takes end frames
            assert f"scene {n}: ltx-2-fast on fal takes no end frames (it has no first-last-frame mode)" in err
            assert f"change scene {n}'s model" in err
        assert "scene 3:" not in err
        assert "models that take end frames: ltx-2.3-fast on fal" in err and "veo-3.1-generate-preview" not in \
            err.split("models that take end frames:")[1].split(" and ")[0]  # its own deployment's models first
        assert "--end-frames --scenes 3" in err and f"project edit-scene {folder} 1 --model" in err
    assert openai_fake.counts["submit_attempts"] == 0
    project = ProjectStore.open(folder).project
    assert project.total_cost == 0 and all(not s.image_takes for s in project.scenes)
    assert not (tmp_path / "race" / "images").exists() or not any((tmp_path / "race" / "images").iterdir())

    # the way out it names works: end frames for the scene whose model takes them
    out = run_json("project", "images", folder, "--provider", "openai", "--quality", "low", "--end-frames",
                   "--scenes", "3")
    assert out["failed"] == 0 and [r["scene"] for r in out["scenes"]] == [3]
    assert ProjectStore.open(folder).project.scenes[2].end_frame
    # start frames: every one of these models takes one
    est = run_json("project", "images", folder, "--provider", "openai", "--variants", "2", "--estimate")
    assert [r["scene"] for r in est["scenes"]] == [1, 2, 3]


def _store(tmp_path, **render) -> ProjectStore:
    store = ProjectStore.create(tmp_path / "p")
    store.project.render = store.project.render.updated(**render)
    store.project.scenes = [Scene(prompt="a red fox in snow", duration=4.0), Scene(prompt="a lighthouse", duration=4.0)]
    store.save()
    return store


def _plan(store: ProjectStore, role: str, ids=None):
    return plan_images(store, lambda n: get_image(n, Settings()), ids, role=role, provider="openai",
                       videos=video_models(Settings()))


def test_a_start_frame_veo_cannot_combine_with_the_scenes_references_is_refused(tmp_path):
    store = _store(tmp_path, provider="veo", model="veo-3.1-generate-preview")
    ref = make_image(store.folder / "ref.png")
    store.project.scenes[1].reference_images = [ReferenceImage(path="ref.png")]
    store.save()
    assert ref.is_file()
    with pytest.raises(InvalidRequestError) as caught:
        _plan(store, "start")
    problems = getattr(caught.value, "problems", None) or [caught.value]
    assert [type(p) for p in problems] == [FrameProblem] and problems[0].scene_id == store.project.scenes[1].id
    text = str(problems[0])
    assert text.startswith("scene 2: veo-3.1-generate-preview cannot render this scene with start frames (")
    assert "reference images cannot be combined with a start or end frame" in text
    assert "models that take start frames: veo-3.1-generate-preview on gemini" in text  # its own provider first
    plan = _plan(store, "start", [store.project.scenes[0].id])  # the scene without references may have one
    assert [i.index for i in plan.items] == [1]


def test_the_animatic_renders_without_end_frames_a_note_not_a_refusal(tmp_path):
    store = _store(tmp_path, provider="animatic")
    plan = _plan(store, "end")
    assert [i.index for i in plan.items] == [1, 2]
    assert plan.notes()[0].startswith("scene 1: animatic renders without end frames; they are used once the scene "
                                      "renders on a model that takes them: ")
    assert _plan(store, "start").notes() == []  # it takes start frames


def test_the_render_refuses_a_chosen_end_frame_and_names_the_way_out(tmp_path):
    folder = _race(tmp_path)
    make_image(tmp_path / "race" / "end.png")
    make_image(tmp_path / "race" / "start.png")
    run_json("project", "edit-scene", folder, "1", "--image", str(tmp_path / "race" / "start.png"),
             "--end-image", str(tmp_path / "race" / "end.png"))
    proc = run_cli("project", "render", folder, "--scenes", "1", "--estimate")
    assert proc.returncode == 2, proc.stderr
    assert "ltx-2-fast on fal has no first-last-frame mode: clear the scene's end frame, or choose a model with " \
           "it on fal: ltx-2.3-fast" in proc.stderr


def test_the_image_group_shows_the_refusal_and_disables_generate_images_with_the_reason(open_window, tmp_path,
                                                                                        qtbot, openai_fake):
    from core.video.project import ImageChoice
    from tests.gui.conftest import make_project

    store = make_project(tmp_path / "proj", ["a red fox", "a lighthouse"], provider="ltx-video", duration=6.0,
                         model="ltx-2-fast", deployment="fal")
    store.project.image = ImageChoice(provider="openai")
    store.save()
    window = open_window(store.folder)
    group = window.video_tab.images
    qtbot.waitUntil(lambda: group.ready, timeout=30_000)
    qtbot.waitUntil(lambda: "2 image(s)" in group.estimate_label.text(), timeout=30_000)  # start frames: fine
    assert group.generate_button.isEnabled() and group.blocked is None

    group.end_check.setChecked(True)
    qtbot.waitUntil(lambda: group.blocked is not None, timeout=30_000)
    assert not group.generate_button.isEnabled()
    tip = group.generate_button.toolTip()
    assert tip.splitlines()[0].startswith("scene 1: ltx-2-fast on fal takes no end frames") and \
        tip.splitlines()[1].startswith("scene 2: ")
    shown = group.estimate_label.text()
    assert "Cannot generate images:<br>• scene 1: ltx-2-fast on fal takes no end frames" in shown
    assert "<br>• scene 2: " in shown and "Models that take end frames: ltx-2.3-fast on fal" in shown
    from PySide6.QtWidgets import QScrollArea
    area = group.parentWidget()
    while area is not None and not isinstance(area, QScrollArea):
        area = area.parentWidget()
    if area is not None:  # the left column scrolls: show the refusal
        area.ensureWidgetVisible(group.estimate_label)
    window.grab().save(str(tmp_path / "refused.png"))
    assert group.generate()  # planned again: refused again, nothing is sent
    qtbot.waitUntil(lambda: "Cannot generate images" in window.video_tab.console.visible_text(), timeout=30_000)
    assert openai_fake.counts["submit_attempts"] == 0

    group.end_check.setChecked(False)  # back to start frames: allowed again
    qtbot.waitUntil(lambda: group.blocked is None and group.generate_button.isEnabled(), timeout=30_000)
