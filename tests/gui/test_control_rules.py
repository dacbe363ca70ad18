"""Every enabling rule of the optional render controls, against the catalogs themselves: each model of each LTX-Video
deployment (providers/ltx/catalog_data.py) and each Veo model (providers/veo/catalog_data.py), so a new catalog
entry is covered without touching this file. A control is enabled exactly where the entry's `params` / `modes`
say the model takes it; a disabled control's tooltip names the chosen model and deployment, and names only models
(and deployments) that do take it."""
from __future__ import annotations

import pytest

from gui.video.control_rules import CONTROLS, Offer, control_reasons
from gui.video.provider_info import DEPLOYMENT_LABELS
from providers.animatic import AnimaticProvider
from providers.ltx import catalog as ltx_catalog
from providers.ltx.catalog_data import MODELS as LTX_MODELS
from providers.veo import catalog as veo_catalog
from providers.veo.catalog_data import MODELS as VEO_MODELS

PARAM_OF = {"seed": "seed", "negative_prompt": "negative_prompt", "guidance": "guidance", "steps": "steps",
            "webhook": "webhook", "camera_speed": "camera_speed"}


def expected(entry: dict, control: str) -> bool:
    """What the raw catalog entry says, read apart from control_rules."""
    params, modes = entry.get("params", []), entry.get("modes", [])
    if control in PARAM_OF:
        return PARAM_OF[control] in params
    if control == "include_audio":  # a switch: the model makes audio and has a field to turn it off
        return "audio" in modes and "generate_audio" in params
    return {"audio_prompt": "audio", "lora": "lora"}[control] in modes


def ltx_cases() -> list[tuple[Offer, dict]]:
    return [(Offer("ltx-video", "LTX-Video", dep, DEPLOYMENT_LABELS[dep], ltx_catalog.model_info(model, dep)), entry)
            for model, spec in LTX_MODELS.items() for dep, entry in spec["deployments"].items()]


def veo_cases() -> list[tuple[Offer, dict]]:
    return [(Offer("veo", "Veo 3.1", None, "", veo_catalog.model_info(model)), entry)
            for model, entry in VEO_MODELS.items()]


CASES = ltx_cases() + veo_cases()
ANIMATIC = [Offer("animatic", "Animatic", None, "", m) for m in AnimaticProvider().capabilities().models]
OFFERS = [offer for offer, _ in CASES] + ANIMATIC
PROVIDER_LABELS = {o.provider_label for o in OFFERS}


def named_offers(tooltip: str) -> list[str]:
    """The labels after 'Offered by:' ('A, B and 2 more; Veo 3.1: C.' -> ['A', 'B', 'C'])."""
    names = []
    for part in tooltip.split("Offered by: ", 1)[1].rstrip(".").split("; "):
        label = next((p for p in PROVIDER_LABELS if part.startswith(f"{p}: ")), None)
        if label is not None:
            part = part[len(label) + 2:]
        for name in part.split(", "):
            names.append(name.split(" and ")[0] if name.endswith(" more") else name)
    return names


def test_the_cases_cover_every_catalog_entry():
    assert len(CASES) == sum(len(m["deployments"]) for m in LTX_MODELS.values()) + len(VEO_MODELS)
    assert {o.deployment for o, _ in ltx_cases()} == set(DEPLOYMENT_LABELS)


@pytest.mark.parametrize("chosen,entry", CASES, ids=[f"{o.provider}:{o.model.id}@{o.deployment}" for o, _ in CASES])
def test_each_control_is_enabled_exactly_where_the_catalog_says(chosen: Offer, entry: dict):
    reasons = control_reasons(chosen, OFFERS)
    assert set(reasons) == set(CONTROLS)
    for control, why in reasons.items():
        takes = expected(entry, control)
        assert (why is None) == takes, (control, why)
        if takes:
            continue
        assert why.startswith(chosen.label), why  # the model and the deployment it is on
        if chosen.deployment is not None:
            assert f"on {DEPLOYMENT_LABELS[chosen.deployment]}" in why
        # every model named takes the control (the audio switch's alternatives are the models that make audio)
        wanted = "audio_prompt" if control == "include_audio" and "audio" not in entry.get("modes", []) else control
        takers = {o.label for o, e in CASES if expected(e, wanted)}
        if not takers:
            assert why.endswith("No model here offers it."), why
            continue
        named = named_offers(why)
        assert named and set(named) <= takers, (control, named)
        # the chosen provider's own alternatives come first, on the same deployment before the others
        own = [o for o, e in CASES if o.provider == chosen.provider and expected(e, wanted)]
        if own:
            same = [o.label for o in own if o.deployment == chosen.deployment]
            assert named[0] in (same or [o.label for o in own]), (named, same)


def test_an_ignored_setting_of_the_plan_disables_a_control_the_catalog_allows():
    chosen, entry = next((o, e) for o, e in ltx_cases() if expected(e, "seed"))
    reasons = control_reasons(chosen, OFFERS, {"seed": "only with a start frame", "width": "not a control"})
    assert reasons["seed"] == "Ignored by the last estimate: only with a start frame"
    assert set(reasons) == set(CONTROLS)


def test_nothing_chosen_leaves_every_control_enabled():
    assert all(why is None for why in control_reasons(None, OFFERS).values())
