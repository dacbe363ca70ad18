"""Veo's prepare against the catalog, no network: defaults filled, forbidden combinations refused naming what is
allowed (all problems at once), inherited values adapted with a note, long scenes made a base clip plus
extensions priced as the sum."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import InvalidRequestError
from core.video.render_settings import RenderSettings
from providers.veo import catalog
from tests.test_veo_support import Inputs, PROMPT, layered_request, provider, request_for
from core.render.contract import RenderRequest

GEMINI, FAST_G, LITE = "veo-3.1-generate-preview", "veo-3.1-fast-generate-preview", "veo-3.1-lite-generate-preview"
VERTEX, FAST_V = "veo-3.1-generate-001", "veo-3.1-fast-generate-001"


def prepare(request):
    return provider().prepare(request)


def refused(request) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as err:
        prepare(request)
    assert err.value.exit_code == 2
    return err.value


def test_unset_values_come_from_the_model_defaults(tmp_path):
    plan = prepare(RenderRequest(prompt=PROMPT, settings=RenderSettings(provider="veo"), output_path=tmp_path / "a.mp4"))
    assert (plan.model, plan.deployment, plan.mode) == (GEMINI, "gemini", "text-to-video")
    assert plan.sent == {"model": GEMINI, "deployment": "gemini", "mode": "text-to-video", "resolution": "720p",
                         "aspect_ratio": "16:9", "fps": 24, "include_audio": True, "person_generation": "allow_all",
                         "duration": 8}
    assert (plan.width, plan.height, plan.expected_seconds) == (1280, 720, 8.0)
    assert plan.cost == pytest.approx(0.40 * 8)
    assert not plan.adjustments and not plan.ignored


def test_the_model_decides_the_deployment(tmp_path):
    plan = prepare(request_for(VERTEX, "text-to-video", Inputs(tmp_path), tmp_path / "a.mp4", duration=4))
    assert plan.deployment == "vertex" and plan.sent["person_generation"] == "allow_adult"
    assert plan.cost == pytest.approx(0.40 * 4)


def test_forbidden_combinations_name_what_is_allowed(tmp_path):
    inputs = Inputs(tmp_path)
    err = refused(request_for(GEMINI, "reference-images", inputs, tmp_path / "a.mp4", reference_images=inputs.refs(4)))
    assert err.field == "reference_images" and "at most 3" in str(err) and "0-3 images" in str(err)
    err = refused(request_for(GEMINI, "text-to-video", inputs, tmp_path / "b.mp4", resolution="4k", duration=4))
    assert err.field == "duration" and "8 s at 4K (2160p)" in str(err) and "4/6/8 s at 720p" in str(err)
    err = refused(request_for(GEMINI, "text-to-video", inputs, tmp_path / "c.mp4", aspect_ratio="21:9"))
    assert err.field == "aspect_ratio" and "allowed: 16:9, 9:16" in str(err)


def test_every_problem_is_reported_at_once(tmp_path):
    inputs = Inputs(tmp_path)
    err = refused(request_for(GEMINI, "reference-images", inputs, tmp_path / "a.mp4", reference_images=inputs.refs(4),
                              aspect_ratio="21:9", fps=30, person_generation="dont_allow"))
    text = str(err)
    assert text.startswith("4 problems") or text.startswith("5 problems")
    for what in ("reference_images", "aspect_ratio", "fps", "options.person_generation"):
        assert what in text


def test_inherited_values_are_adapted_with_a_note(tmp_path):
    req = layered_request(tmp_path / "a.mp4", ("project", RenderSettings(resolution="1080p", fps=25,
                                                                         aspect_ratio="4:3")),
                          ("scene", RenderSettings(duration=4)))
    plan = prepare(req)
    assert (plan.sent["resolution"], plan.sent["duration"], plan.sent["aspect_ratio"], plan.fps) == \
        ("720p", 4, "16:9", 24)
    fields = {a.field for a in plan.adjustments}
    assert {"resolution", "fps", "aspect_ratio"} <= fields


def test_explicit_resolution_with_an_inherited_length_renders_eight_seconds_and_is_cut(tmp_path):
    req = layered_request(tmp_path / "a.mp4", ("project", RenderSettings(duration=4)),
                          ("scene", RenderSettings(resolution="1080p")))
    plan = prepare(req)
    assert plan.sent["duration"] == 8 and plan.sent["resolution"] == "1080p"
    assert any(a.field == "duration" and "cuts it to 4 s" in a.reason for a in plan.adjustments)
    assert plan.cost == pytest.approx(0.40 * 8)


def test_a_long_scene_is_a_base_clip_plus_extensions_priced_as_the_sum(tmp_path):
    plan = prepare(request_for(GEMINI, "text-to-video", Inputs(tmp_path), tmp_path / "a.mp4", duration=20))
    assert plan.sent["duration"] == 8 and plan.sent["extensions"] == 2
    assert plan.render_seconds == plan.expected_seconds == 22
    assert plan.cost == pytest.approx(0.40 * 22)
    note = " ".join(plan.notes())
    assert "one 8 s clip and 2 extensions of 7 s" in note and "cuts it to 20 s" in note


def test_long_scene_limits(tmp_path):
    inputs = Inputs(tmp_path)
    err = refused(request_for(LITE, "text-to-video", inputs, tmp_path / "a.mp4", duration=10))
    assert err.field == "duration" and "veo-3.1-generate-preview" in str(err)
    err = refused(request_for(GEMINI, "text-to-video", inputs, tmp_path / "b.mp4", duration=149))
    assert "at most 148 s" in str(err)
    err = refused(request_for(GEMINI, "first-last-frame", inputs, tmp_path / "c.mp4", duration=12))
    assert err.field == "end_image"
    err = refused(request_for(GEMINI, "text-to-video", inputs, tmp_path / "d.mp4", duration=20, resolution="1080p"))
    assert err.field == "resolution" and "720p" in str(err)
    plan = prepare(layered_request(tmp_path / "e.mp4", ("project", RenderSettings(resolution="1080p")),
                                   ("scene", RenderSettings(duration=20))))
    assert plan.sent["resolution"] == "720p" and any(a.field == "resolution" for a in plan.adjustments)
    assert prepare(request_for(GEMINI, "text-to-video", inputs, tmp_path / "f.mp4", duration=148)).sent[
        "extensions"] == 20


def test_person_generation_follows_the_mode(tmp_path):
    inputs = Inputs(tmp_path)
    assert prepare(request_for(GEMINI, "image-to-video", inputs, tmp_path / "a.mp4")).sent["person_generation"] == \
        "allow_adult"
    plan = prepare(request_for(GEMINI, "image-to-video", inputs, tmp_path / "b.mp4", duration=15))
    assert (plan.sent["person_generation"], plan.sent["extension_person_generation"]) == ("allow_adult", "allow_all")
    err = refused(request_for(GEMINI, "text-to-video", inputs, tmp_path / "c.mp4", person_generation="allow_adult"))
    assert err.field == "options.person_generation" and "allowed: allow_all" in str(err)
    plan = prepare(layered_request(tmp_path / "d.mp4",
                                   ("project", RenderSettings(options={"person_generation": "allow_adult"}))))
    assert plan.sent["person_generation"] == "allow_all"
    assert any(a.field == "options.person_generation" for a in plan.adjustments)


def test_settings_a_deployment_does_not_take_are_ignored_with_a_note(tmp_path):
    inputs = Inputs(tmp_path)
    plan = prepare(request_for(GEMINI, "text-to-video", inputs, tmp_path / "a.mp4", seed=7, include_audio=False))
    assert {i.field for i in plan.ignored} == {"seed", "include_audio"}
    assert "seed" not in plan.sent and plan.sent["include_audio"] is True
    plan = prepare(request_for(VERTEX, "text-to-video", inputs, tmp_path / "b.mp4", seed=7, include_audio=False))
    assert not plan.ignored and plan.sent["seed"] == 7 and plan.sent["include_audio"] is False
    assert plan.cost == pytest.approx(0.20 * 8)  # Vertex bills silent clips at its lower rate


def test_project_references_are_used_where_they_fit_and_noted_where_not(tmp_path):
    inputs = Inputs(tmp_path)
    refs = inputs.refs(4)
    req = layered_request(tmp_path / "a.mp4", ("scene", RenderSettings(duration=8)), project_reference_images=refs)
    plan = prepare(req)
    assert plan.mode == "reference-images" and plan.sent["references"] == 3
    assert any(a.field == "reference_images" and "ref3.png" in a.reason for a in plan.adjustments)
    req = layered_request(tmp_path / "b.mp4", ("scene", RenderSettings(duration=8)), project_reference_images=refs,
                          start_image=inputs.start)
    plan = prepare(req)
    assert plan.mode == "image-to-video" and "references" not in plan.sent
    assert any("start or end frame" in a.reason for a in plan.adjustments)


def test_unknown_options_and_models_are_refused(tmp_path):
    err = refused(RenderRequest(prompt=PROMPT, settings=RenderSettings(provider="veo", options={"lora_path": "x"}),
                                output_path=tmp_path / "a.mp4"))
    assert err.field == "options.lora_path" and "person_generation" in str(err)
    err = refused(RenderRequest(prompt=PROMPT, settings=RenderSettings(provider="veo", model="veo-2.0"),
                                output_path=tmp_path / "b.mp4"))
    assert err.field == "model" and GEMINI in str(err)


def test_extending_the_users_clip_is_vertex_only_and_at_most_720p(tmp_path):
    from tests.fakes.clips import write_clip
    inputs = Inputs(tmp_path)
    err = refused(request_for(GEMINI, "extend", inputs, tmp_path / "a.mp4", extend_video=inputs.video))
    assert err.field == "mode" and VERTEX in str(err)
    plan = prepare(request_for(VERTEX, "extend", inputs, tmp_path / "b.mp4"))
    assert plan.sent["extensions"] == 1 and plan.expected_seconds == pytest.approx(10.0, abs=0.1)
    assert plan.cost == pytest.approx(0.40 * 7)
    big = write_clip(tmp_path / "big.mp4", 1.0, 24, width=1920, height=1080)
    err = refused(request_for(VERTEX, "extend", inputs, tmp_path / "c.mp4", extend_video=big))
    assert err.field == "extend_video" and "720p" in str(err)


def test_catalog_prices_mark_what_is_not_published():
    for model in catalog.model_ids():
        e = catalog.entry(model)
        assert set(e["price_published"]) == set(e["resolutions"]) == set(e["price_per_second"])
    assert catalog.entry(LITE)["price_published"] == {"720p": False, "1080p": False}
    assert catalog.entry(GEMINI)["price_published"]["2160p"] is False


@pytest.mark.parametrize("model", catalog.model_ids())
def test_the_plan_of_each_model_at_its_defaults_costs_what_its_model_info_says(tmp_path, model):
    from providers import registry
    veo = registry.get("veo")
    info = next(m for m in veo.capabilities().models if m.id == model)
    plan = veo.prepare(RenderRequest(prompt=PROMPT, settings=RenderSettings(provider="veo", model=model),
                                     output_path=tmp_path / "a.mp4"))
    assert plan.sent["resolution"] == info.defaults["resolution"] and plan.sent["duration"] == info.defaults["duration"]
    assert plan.cost == pytest.approx(info.cost_per_second(plan.sent["resolution"]) * info.defaults["duration"])
    assert plan.deployment in info.deployments and info.max_duration >= 8


def test_listing_and_planning_veo_loads_no_sdk(tmp_path):
    import subprocess
    import sys
    code = ("import sys\nfrom pathlib import Path\nfrom providers import registry\n"
            "from core.render.contract import RenderRequest\nfrom core.video.render_settings import RenderSettings\n"
            "registry.status('veo')\n"
            "registry.get('veo').prepare(RenderRequest(prompt='x', settings=RenderSettings(provider='veo', duration=20),"
            " output_path=Path('a.mp4')))\n"
            "print(sorted(m for m in ('httpx', 'google.genai') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(Path(__file__).resolve().parent.parent))
    assert out.stdout.strip() == "[]"
