"""Render Settings and the LTX group: provider switching, the LTX group's visibility, and every enabling rule, checked
against the catalog the provider publishes (not against numbers copied into the test)."""
from __future__ import annotations

import json

from PySide6.QtWidgets import QComboBox, QGroupBox, QLineEdit, QSlider

from gui.video import combo_utils
from providers.ltx import catalog
from tests.gui.conftest import make_project


def _choose(combo: QComboBox, data) -> None:
    index = combo.findData(data)
    assert index >= 0, f"{data!r} not in {combo.objectName()}"
    assert combo_utils.is_enabled(combo, index), combo_utils.reason(combo, index)
    combo.setCurrentIndex(index)


def _enabled(combo: QComboBox, data) -> bool:
    return combo_utils.is_enabled(combo, combo.findData(data))


def _w(window, cls, name):
    widget = window.findChild(cls, name)
    assert widget is not None, name
    return widget


def test_provider_switch_shows_ltx_group_only_for_ltx(open_window, tmp_path, monkeypatch):
    monkeypatch.setenv("FAL_KEY", "fal-test-key-123456")
    window = open_window(make_project(tmp_path / "p", ["a"]).folder)
    provider = _w(window, QComboBox, "providerCombo")
    ltx = _w(window, QGroupBox, "ltxGroup")

    veo = provider.findData("veo")
    assert veo >= 0 and not combo_utils.is_enabled(provider, veo)
    assert combo_utils.reason(provider, veo)  # the tooltip says why

    _choose(provider, "animatic")
    assert not ltx.isVisible()
    assert window.session.project.render.provider == "animatic"
    model = _w(window, QComboBox, "modelCombo")
    assert model.count() == 1 and "free" in model.itemText(0)

    _choose(provider, "ltx-video")
    assert ltx.isVisible()
    render = window.session.project.render
    assert render.provider == "ltx-video" and render.deployment in ("fal", "replicate", "local", "comfyui")

    _choose(provider, "animatic")
    assert not ltx.isVisible()


def test_deployments_are_marked_unavailable_with_the_reason(open_window, tmp_path):
    window = open_window(make_project(tmp_path / "p", ["a"]).folder)
    provider = _w(window, QComboBox, "providerCombo")
    # chosen directly: without any key LTX-Video may be unavailable as a whole, and its group still explains why
    provider.setCurrentIndex(provider.findData("ltx-video"))
    deployment = _w(window, QComboBox, "deploymentCombo")
    reasons = window.video_tab.info.deployment_status()
    for dep, why in reasons.items():
        i = deployment.findData(dep)
        assert combo_utils.is_enabled(deployment, i) == (why is None)
        if why:
            assert combo_utils.reason(deployment, i) == why
            assert "unavailable" in deployment.itemText(i)
    # no key in the environment: the cloud deployments say what is missing
    assert reasons["fal"] is not None and "key" in reasons["fal"].lower()
    assert reasons["replicate"] is not None


def test_every_ltx_enabling_rule_follows_the_catalog(open_window, tmp_path, monkeypatch):
    monkeypatch.setenv("FAL_KEY", "fal-test-key-123456")
    window = open_window(make_project(tmp_path / "p", ["a"]).folder)
    _choose(_w(window, QComboBox, "providerCombo"), "ltx-video")
    deployment = _w(window, QComboBox, "deploymentCombo")
    model = _w(window, QComboBox, "modelCombo")
    resolution = _w(window, QComboBox, "resolutionCombo")
    aspect = _w(window, QComboBox, "aspectCombo")
    fps = _w(window, QComboBox, "fpsCombo")
    lora = _w(window, QLineEdit, "loraPathEdit")
    reasons = window.video_tab.info.deployment_status()

    for dep in [d for d, why in reasons.items() if why is None]:
        _choose(deployment, dep)
        assert window.session.project.render.deployment == dep
        assert lora.isEnabled() == (dep in ("local", "comfyui"))
        infos = catalog.models_for(dep)
        assert [model.itemData(i) for i in range(model.count())] == [m.id for m in infos]
        for info in infos:
            _choose(model, info.id)
            assert window.session.project.render.model == info.id
            # the price per second of each entry is shown
            if info.price_per_second:
                assert "$" in model.currentText() or "free" in model.currentText()
            assert _enabled(resolution, "2160p") == ("2160p" in info.resolutions)  # 4K only where allowed
            assert _enabled(aspect, "21:9") == ("21:9" in info.aspect_ratios)
            assert fps.findData(50) >= 0 and _enabled(fps, 50) == (50 in info.fps)
            for i in range(fps.count()):
                assert combo_utils.is_enabled(fps, i) == (fps.itemData(i) in info.fps)
            render = window.session.project.render
            assert render.resolution in info.resolutions and render.aspect_ratio in info.aspect_ratios
            assert render.fps in info.fps


def test_camera_speed_needs_a_motion_and_values_are_saved(open_window, tmp_path, monkeypatch, qtbot):
    monkeypatch.setenv("FAL_KEY", "fal-test-key-123456")
    store = make_project(tmp_path / "p", ["a"])
    window = open_window(store.folder)
    _choose(_w(window, QComboBox, "providerCombo"), "ltx-video")
    motion = _w(window, QComboBox, "cameraMotionCombo")
    speed = _w(window, QSlider, "cameraSpeedSlider")
    _choose(motion, "none")
    assert not speed.isEnabled()
    _choose(motion, "dolly_forward")
    assert speed.isEnabled()
    speed.setValue(150)
    window.video_tab.render_group.ltx.advanced_toggle.click()
    assert _w(window, QLineEdit, "seedEdit").isVisible()
    seed = _w(window, QLineEdit, "seedEdit")
    seed.setText("1234")
    seed.editingFinished.emit()
    audio = _w(window, QLineEdit, "audioPromptEdit")
    if audio.isEnabled():
        audio.setText("rain on a tin roof")
        audio.editingFinished.emit()
    assert window.save()
    saved = json.loads((store.folder / "project.json").read_text())["render"]
    assert saved["camera_motion"] == "dolly_forward" and saved["camera_speed"] == 1.5 and saved["seed"] == 1234
    _choose(motion, "none")
    assert not speed.isEnabled()


def test_a_project_opens_as_saved_even_with_choices_this_machine_cannot_render(open_window, tmp_path):
    store = make_project(tmp_path / "p", ["a"], provider="veo", model="veo-3.1")
    before = json.loads((store.folder / "project.json").read_text())["render"]
    window = open_window(store.folder)
    provider = _w(window, QComboBox, "providerCombo")
    assert provider.currentData() == "veo" and not _enabled(provider, "veo")
    assert not window.session.dirty
    window.video_tab.update_estimate()
    assert "Cannot render" in window.video_tab.cost_label.text()
    assert not window.video_tab.generate_button.isEnabled()
    assert window.save()
    assert json.loads((store.folder / "project.json").read_text())["render"] == before  # nothing was rewritten
    _choose(provider, "animatic")  # the user's own choice is applied and checked
    window.video_tab.update_estimate()
    assert window.video_tab.generate_button.isEnabled()
