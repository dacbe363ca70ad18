"""The enabling rules on the real widgets: every model of every LTX-Video deployment and every Veo model chosen
through the window's combos; each optional control is enabled exactly where the raw catalog entry says, and a
disabled one's tooltip names the chosen model on its deployment (cases from the catalogs, see test_control_rules)."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLineEdit

from core.config import Settings
from gui.video.control_rules import control_reasons
from tests.gui.conftest import make_project
from tests.gui.helpers import choose, widget
from tests.gui.test_control_rules import expected, ltx_cases, veo_cases


def _controls(window) -> dict:
    group = window.video_tab.render_group
    return {"seed": group.seed, "negative_prompt": group.negative, "include_audio": group.audio,
            "audio_prompt": group.audio_prompt, "camera_speed": group.speed, "guidance": group.ltx.guidance,
            "steps": group.ltx.steps, "webhook": group.ltx.webhook, "lora": widget(window, QLineEdit, "loraPathEdit")}


def _check(window, chosen, entry, shown: set[str]) -> None:
    info = window.video_tab.render_group.info
    reasons = control_reasons(chosen, info.offers())  # the rules, checked against the catalog in test_control_rules
    for control, w in _controls(window).items():
        if control not in shown:
            continue
        assert w.isEnabled() == expected(entry, control), (chosen.label, control, w.toolTip())
        if not w.isEnabled():
            # the whole reason reaches the tooltip: the chosen model on its deployment, then who offers it
            assert w.toolTip() == reasons[control], (control, w.toolTip())
            assert w.toolTip().startswith(chosen.label) and ("Offered by: " in w.toolTip() or
                                                             "No model here offers it" in w.toolTip())


def test_every_catalog_entry_enables_its_controls_in_the_window(open_window, tmp_path, monkeypatch):
    monkeypatch.setenv("FAL_KEY", "fal-test-key-123456")
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_test_token_123456")
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-test-key-123456")
    # every deployment selectable here: a ComfyUI address (nothing is sent) and the local one on the CPU by choice
    settings = Settings(autosave_interval_s=0, confirm_cost_above=100.0, ltx_local_device="cpu",
                        comfyui_url="http://127.0.0.1:9")
    store = make_project(tmp_path / "p", ["a"], provider="ltx-video", camera_motion="dolly_forward")
    window = open_window(store.folder, settings)
    deployment = widget(window, QComboBox, "deploymentCombo")
    model = widget(window, QComboBox, "modelCombo")
    every = set(_controls(window))
    checked = 0
    for chosen, entry in ltx_cases():
        choose(deployment, chosen.deployment)
        choose(model, chosen.model.id)
        assert window.video_tab.render_group.info.offer("ltx-video", chosen.model.id, chosen.deployment) == chosen
        _check(window, chosen, entry, every)
        checked += 1
    choose(widget(window, QComboBox, "providerCombo"), "veo")
    assert not window.video_tab.render_group.ltx.isVisible()
    for chosen, entry in veo_cases():
        choose(model, chosen.model.id)
        _check(window, chosen, entry, every - {"guidance", "steps", "webhook", "lora"})  # the LTX group is hidden
        checked += 1
    assert checked == len(ltx_cases()) + len(veo_cases())
