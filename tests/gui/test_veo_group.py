"""The Veo group of the video tab: shown only while Veo is chosen, its values (and the scene table's frames, the
reference images and the negative prompt) reach the request the Veo fake receives, through the real window, the
real provider and google-genai over 127.0.0.1."""
from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit

from core.config import Settings
from tests.fakes.clips import write_image
from tests.gui.conftest import make_project, render_and_wait
from tests.gui.helpers import choose, enabled, estimate, widget
from tests.test_veo_e2e import quick_polls, veo  # noqa: F401  (fixtures)

STANDARD = "veo-3.1-generate-preview"
FAST = "veo-3.1-fast-generate-preview"
VERTEX_FAST = "veo-3.1-fast-generate-001"
SHOTS = os.environ.get("IMAGEAI_SCREENSHOTS")  # a folder: the tests save what they show there


@pytest.fixture
def veo_settings():
    return Settings(autosave_interval_s=0, confirm_cost_above=100.0, veo_poll_interval_s=0.05)


def _submitted(fake) -> list[dict]:
    return [r["body"] for r in fake.requests() if r["method"] == "POST" and r["path"].endswith(":predictLongRunning")]


def test_the_veo_group_is_shown_only_while_veo_is_chosen(veo, open_window, tmp_path, qtbot, monkeypatch):
    monkeypatch.setenv("FAL_KEY", "fal-test-key-123456")
    store = make_project(tmp_path / "p", ["a lighthouse"])
    window = open_window(store.folder)
    group = window.video_tab.render_group
    provider = widget(window, QComboBox, "providerCombo")
    assert enabled(provider, "veo"), "Veo is offered once a Gemini key is set"
    assert not group.veo.isVisible()
    choose(provider, "veo")
    assert group.veo.isVisible() and not group.ltx.isVisible()
    choose(widget(window, QComboBox, "modelCombo"), FAST)
    # the Gemini API takes allow_all / allow_adult (per mode), never dont_allow: greyed out with the reason
    person = widget(window, QComboBox, "veoPersonCombo")
    assert not enabled(person, "dont_allow") and "Vertex AI" in person.itemData(
        person.findData("dont_allow"), Qt.ToolTipRole)
    assert "takes no reference images" in group.veo.inputs.text()
    choose(widget(window, QComboBox, "modelCombo"), VERTEX_FAST)
    assert enabled(person, "dont_allow")  # Vertex AI takes all three values
    choose(widget(window, QComboBox, "modelCombo"), STANDARD)
    assert "References: up to 3" in group.veo.inputs.text()
    # the left column lays out again once the event loop runs (the group just appeared)
    qtbot.waitUntil(lambda: group.veo.height() >= group.veo.sizeHint().height())
    if SHOTS:
        window.grab().save(os.path.join(SHOTS, "video-tab-veo.png"))
        group.grab().save(os.path.join(SHOTS, "veo-group.png"))
    choose(provider, "ltx-video")
    assert group.ltx.isVisible() and not group.veo.isVisible()
    choose(provider, "veo")  # switching back restores Veo's model and options
    assert window.session.project.render.model == STANDARD and group.veo.isVisible()


def test_veo_options_frames_and_references_reach_the_service(veo, open_window, tmp_path, qtbot, veo_settings):
    store = make_project(tmp_path / "p", ["a lighthouse in a storm", "a fox in the snow"], provider="veo",
                         duration=8.0, resolution="720p", model=STANDARD)
    window = open_window(store.folder, veo_settings)
    tab = window.video_tab
    group = tab.render_group
    assert group.veo.isVisible()
    choose(widget(window, QComboBox, "veoPersonCombo"), "allow_adult")
    choose(widget(window, QComboBox, "veoEnhanceCombo"), "off")
    negative = widget(window, QLineEdit, "negativePromptEdit")
    negative.setText("text, watermarks")
    negative.editingFinished.emit()
    assert window.session.project.render.options == {"person_generation": "allow_adult", "enhance_prompt": False}

    # scene 1: start and end frames from the scene table; scene 2: the project's reference images
    scenes = window.session.project.scenes
    start, end = write_image(tmp_path / "start.png", (320, 180)), write_image(tmp_path / "end.png", (320, 180))
    assert tab.scenes.set_frame(scenes[0].id, "start_frame", start)
    assert tab.scenes.set_frame(scenes[0].id, "end_frame", end)
    refs = [write_image(tmp_path / f"ref{i}.png", (256, 256)) for i in range(2)]
    tab.references.add([str(p) for p in refs], scene=False)
    assert len(window.session.project.reference_images) == 2

    summary = render_and_wait(qtbot, window)
    assert len(summary.done) == 2, summary
    bodies = _submitted(veo)
    assert len(bodies) == 2
    framed = next(b for b in bodies if "lastFrame" in b["instances"][0])
    referenced = next(b for b in bodies if "referenceImages" in b["instances"][0])
    assert "image" in framed["instances"][0] and "referenceImages" not in framed["instances"][0]
    assert len(referenced["instances"][0]["referenceImages"]) == 2
    for body in bodies:
        params = body["parameters"]
        assert params["personGeneration"] == "allow_adult"
        assert params["enhancePrompt"] is False
        assert params["negativePrompt"] == "text, watermarks"


def test_a_person_value_the_scenes_mode_does_not_take_is_adjusted_and_said_beside_the_cost(veo, open_window, qtbot,
                                                                                          tmp_path, veo_settings):
    store = make_project(tmp_path / "p", ["a lighthouse"], provider="veo", duration=8.0, resolution="720p",
                         model=FAST)
    window = open_window(store.folder, veo_settings)
    tab = window.video_tab
    scene_id = window.session.project.scenes[0].id
    assert tab.scenes.set_frame(scene_id, "start_frame", write_image(tmp_path / "start.png", (320, 180)))
    choose(widget(window, QComboBox, "veoPersonCombo"), "allow_all")  # the Gemini API: prompt-only scenes
    result = estimate(qtbot, window)
    assert result.error is None, result.error
    (item,) = result.plan.items
    assert item.plan.detail.person_generation == "allow_adult"
    assert "person generation allow_all is not taken for image-to-video" in tab.plan_notes.toolTip()
    assert veo.requests() == []  # an estimate sends nothing
