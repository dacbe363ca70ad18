"""Render Settings and the LTX group: provider switching, the LTX group's visibility, unset values shown as the
model's own default, and every enabling rule, checked against the catalog the provider publishes (not against
numbers copied into the test)."""
from __future__ import annotations

import json

from PySide6.QtWidgets import QComboBox, QGroupBox, QLineEdit, QSlider, QDoubleSpinBox

from gui.video import combo_utils
from gui.video.control_rules import takes
from providers.ltx import catalog
from tests.gui.conftest import make_project
from tests.gui.helpers import choose as _choose, enabled as _enabled, estimate, widget as _w


def _data(combo: QComboBox) -> list:
    return [combo.itemData(i) for i in range(combo.count())]


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
    # "Model default (Animatic …)" first, then the one model with its price
    assert _data(model) == ["", "animatic"] and "free" in model.itemText(1)
    assert model.itemText(0).startswith("Model default (Animatic")

    _choose(provider, "ltx-video")
    assert ltx.isVisible()
    render = window.session.project.render
    # nothing is chosen for the user: the deployment and model stay unset and show what they default to
    assert render.provider == "ltx-video" and render.deployment is None and render.model is None
    deployment = _w(window, QComboBox, "deploymentCombo")
    assert deployment.currentData() == "" and deployment.currentText().startswith("Default (Fal API")
    default = catalog.model_info(catalog.default_model(catalog.DEFAULT_DEPLOYMENT), catalog.DEFAULT_DEPLOYMENT)
    assert model.currentData() == "" and model.currentText() == f"Model default ({default.label})"

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
    # no key in the environment: the cloud deployments say what is missing, the default entry too
    assert reasons["fal"] is not None and "key" in reasons["fal"].lower()
    assert reasons["replicate"] is not None
    assert combo_utils.reason(deployment, deployment.findData("")) == reasons["fal"]


def test_every_ltx_enabling_rule_follows_the_catalog(open_window, tmp_path, monkeypatch):
    monkeypatch.setenv("FAL_KEY", "fal-test-key-123456")
    window = open_window(make_project(tmp_path / "p", ["a"], provider="ltx-video", resolution=None, fps=None).folder)
    deployment = _w(window, QComboBox, "deploymentCombo")
    model = _w(window, QComboBox, "modelCombo")
    resolution = _w(window, QComboBox, "resolutionCombo")
    aspect = _w(window, QComboBox, "aspectCombo")
    fps = _w(window, QComboBox, "fpsCombo")
    group = window.video_tab.render_group
    controls = {"seed": group.seed, "negative_prompt": group.negative, "include_audio": group.audio,
                "audio_prompt": group.audio_prompt, "guidance": group.ltx.guidance, "steps": group.ltx.steps,
                "webhook": group.ltx.webhook, "lora": _w(window, QLineEdit, "loraPathEdit")}
    reasons = window.video_tab.info.deployment_status()
    checked = 0
    for dep in [d for d, why in reasons.items() if why is None]:
        _choose(deployment, dep)
        assert window.session.project.render.deployment == dep
        infos = catalog.models_for(dep)
        assert _data(model) == [""] + [m.id for m in infos]
        for info in infos:
            _choose(model, info.id)
            render = window.session.project.render
            assert render.model == info.id
            # choosing a model writes nothing else: unset values stay unset and show this model's own defaults
            assert render.resolution is None and render.fps is None and render.aspect_ratio is None
            d = info.defaults
            assert resolution.currentData() == "" and d["resolution"].rstrip("p") in resolution.currentText()
            assert fps.currentText() == f"Model default ({d['fps']} fps)"
            assert aspect.currentText() == f"Model default ({d['aspect_ratio']})"
            if info.price_per_second:
                assert "$" in model.currentText() or "free" in model.currentText()
            assert _enabled(resolution, "2160p") == ("2160p" in info.resolutions)  # 4K only where allowed
            assert _enabled(aspect, "21:9") == ("21:9" in info.aspect_ratios)
            for i in range(1, fps.count()):
                assert combo_utils.is_enabled(fps, i) == (fps.itemData(i) in info.fps)
            # each optional control is enabled exactly where the catalog says the model takes it; a disabled one
            # says why and names a model that offers it
            for control, w in controls.items():
                assert w.isEnabled() == takes(info, control), (dep, info.id, control)
                if not w.isEnabled():
                    assert w.toolTip() and info.label in w.toolTip(), (dep, info.id, control, w.toolTip())
                    offering = [m.label for m in infos if takes(m, control)]
                    if offering:
                        assert any(label in w.toolTip() for label in offering), w.toolTip()
            checked += 1
    assert checked >= len(catalog.models_for("fal"))


def test_camera_seed_and_options_are_saved_where_they_belong(open_window, tmp_path, monkeypatch, qtbot):
    monkeypatch.setenv("FAL_KEY", "fal-test-key-123456")
    store = make_project(tmp_path / "p", ["a"], duration=6.0)
    window = open_window(store.folder)
    group = window.video_tab.render_group
    _choose(_w(window, QComboBox, "providerCombo"), "ltx-video")
    _choose(_w(window, QComboBox, "modelCombo"), "ltx-2-19b")  # on fal: seed, negative prompt, guidance, steps
    motion = _w(window, QComboBox, "cameraMotionCombo")
    speed = _w(window, QSlider, "cameraSpeedSlider")
    _choose(motion, "")
    assert not speed.isEnabled() and "camera motion" in speed.toolTip()
    _choose(motion, "dolly_forward")
    assert speed.isEnabled()
    speed.setValue(150)
    seed = _w(window, QLineEdit, "seedEdit")
    assert seed.isEnabled()
    seed.setText("1234")
    seed.editingFinished.emit()
    negative = _w(window, QLineEdit, "negativePromptEdit")
    negative.setText("blurry, text")
    negative.editingFinished.emit()
    group.ltx.set_advanced_shown(True)
    guidance = _w(window, QDoubleSpinBox, "guidanceSpin")
    assert guidance.isVisible() and guidance.isEnabled()
    guidance.setValue(4.5)
    assert window.save()
    saved = json.loads((store.folder / "project.json").read_text())["render"]
    assert saved["camera_motion"] == "dolly_forward" and saved["camera_speed"] == 1.5 and saved["seed"] == 1234
    assert saved["negative_prompt"] == "blurry, text" and saved["model"] == "ltx-2-19b"
    assert saved["options"] == {"guidance_scale": 4.5}  # LTX-Video's own settings go to options
    assert saved["deployment"] is None and saved["include_audio"] is None  # untouched: the model's defaults

    # a model without a seed: the seed stays saved (for a model that takes one) but its field says it is ignored
    _choose(_w(window, QComboBox, "modelCombo"), "ltx-2-pro")
    assert not seed.isEnabled() and seed.text() == "1234"
    assert "LTX-2 Pro on Fal API takes no seed" in seed.toolTip() and "LTX-2 19B" in seed.toolTip()
    assert not guidance.isEnabled() and not negative.isEnabled()
    result = estimate(qtbot, window)
    notes = window.video_tab.plan_notes.toolTip()
    assert "scene 1: ignored seed: ltx-2-pro on fal takes no seed" in notes, notes
    assert "ignored guidance_scale" in notes and "ignored negative_prompt" in notes
    assert result.plan.to_render[0].plan.sent.get("seed") is None  # and indeed it is not sent
    _choose(motion, "")
    assert not speed.isEnabled()


def test_controls_of_other_providers_follow_their_models(open_window, tmp_path, monkeypatch):
    from tests.gui.conftest import PICKY

    monkeypatch.setenv("IMAGEAI_PROVIDER_PLUGINS", PICKY)
    window = open_window(make_project(tmp_path / "p", ["a"]).folder)
    group = window.video_tab.render_group
    provider = _w(window, QComboBox, "providerCombo")
    _choose(provider, "animatic")
    for w in (group.seed, group.negative, group.audio, group.audio_prompt):
        assert not w.isEnabled()
    assert group.seed.toolTip().startswith("Animatic (offline pan & zoom) takes no seed")
    assert "Picky" in group.seed.toolTip()  # another provider's model that takes one
    assert "makes no audio" in group.audio.toolTip()
    _choose(provider, "picky")
    assert group.seed.isEnabled() and group.negative.isEnabled()  # its catalog says it takes both


def test_a_setting_the_plan_ignores_is_disabled_with_the_plans_reason(open_window, tmp_path, monkeypatch, qtbot):
    from tests.gui.conftest import PICKY

    monkeypatch.setenv("IMAGEAI_PROVIDER_PLUGINS", PICKY)
    window = open_window(make_project(tmp_path / "p", ["a"], provider="picky").folder)
    negative = _w(window, QLineEdit, "negativePromptEdit")
    assert negative.isEnabled()
    negative.setText("blurry")
    negative.editingFinished.emit()
    estimate(qtbot, window)
    why = "picky-1 reads a negative prompt only with a start frame"
    assert f"scene 1: ignored negative_prompt: {why}" in window.video_tab.plan_notes.toolTip()
    assert not negative.isEnabled() and negative.toolTip() == f"Ignored by the last estimate: {why}"
    assert negative.text() == "blurry" and window.session.project.render.negative_prompt == "blurry"  # kept
    assert window.video_tab.render_group.seed.isEnabled()  # what the plan sent stays enabled


def test_a_project_opens_as_saved_even_with_choices_this_machine_cannot_render(open_window, tmp_path, qtbot):
    store = make_project(tmp_path / "p", ["a"], provider="veo", model="veo-3.1")
    before = json.loads((store.folder / "project.json").read_text())["render"]
    window = open_window(store.folder)
    provider = _w(window, QComboBox, "providerCombo")
    assert provider.currentData() == "veo" and not _enabled(provider, "veo")
    model = _w(window, QComboBox, "modelCombo")
    assert model.currentData() == "veo-3.1"  # shown as saved, though this build cannot list it
    assert not window.session.dirty
    estimate(qtbot, window)
    assert "Cannot render" in window.video_tab.cost_label.text()
    assert not window.video_tab.generate_button.isEnabled()
    assert window.save()
    assert json.loads((store.folder / "project.json").read_text())["render"] == before  # nothing was rewritten
    _choose(provider, "animatic")  # the user's own choice is applied and checked
    assert window.session.project.render.model is None  # veo's model does not follow to Animatic
    estimate(qtbot, window)
    assert window.video_tab.generate_button.isEnabled()


def test_a_deployment_without_the_chosen_model_falls_back_to_its_default(open_window, tmp_path, monkeypatch):
    monkeypatch.setenv("FAL_KEY", "fal-test-key-123456")
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_test_token_123456")
    window = open_window(make_project(tmp_path / "p", ["a"], provider="ltx-video").folder)
    only_fal = next(m for m in catalog.model_ids()  # on fal, not on Replicate (other deployments may serve it)
                    if "fal" in catalog.deployments_of(m) and "replicate" not in catalog.deployments_of(m))
    _choose(_w(window, QComboBox, "modelCombo"), only_fal)
    _choose(_w(window, QComboBox, "deploymentCombo"), "replicate")
    render = window.session.project.render
    assert render.deployment == "replicate" and render.model is None  # not a model Replicate does not serve
    assert f"{only_fal} is not offered on Replicate API" in window.video_tab.console.visible_text()
    model = _w(window, QComboBox, "modelCombo")
    assert _data(model) == [""] + [m.id for m in catalog.models_for("replicate")]
