"""The LTX catalog as the GUI and validation see it, the camera mapping, and how deployments report themselves.

`python -m tests.test_ltx_catalog` rewrites the generated defaults table in Docs/ltx-models.md from the catalog."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import fal_client.client as fc
import pytest

from core.config import Settings
from core.errors import InvalidRequestError, UnavailableError
from core.render.contract import RenderRequest
from core.video.render_settings import ASPECT_RATIOS, CAMERA_MOTIONS, RESOLUTIONS, RenderSettings
from providers import registry
from providers.base import MODES
from providers.ltx import camera, catalog
from providers.ltx.catalog_data import DEFAULT_KEYS, MODELS, PARAMS
from providers.ltx.plan import prepare
from providers.ltx_video import BACKENDS, LTXVideoProvider

PLAN_IDS = ["ltx-2-fast", "ltx-2-pro", "ltx-2-ultra", "ltx-2.3-fast", "ltx-2.3-pro", "ltx-video-13b", "ltx-video-2b"]
ENTRIES = [(m, d) for m in catalog.model_ids() for d in catalog.deployments_of(m)]
DOC = Path(__file__).resolve().parent.parent / "Docs" / "ltx-models.md"
TABLE_BEGIN = "<!-- defaults-table: generated from providers/ltx/catalog_data.py by `python -m tests.test_ltx_catalog` -->"
TABLE_END = "<!-- /defaults-table -->"
# request builders for services whose LTX-2.x APIs have no seed and no negative-prompt field
HOSTED_SCHEMAS = {"ltx2", "ltx23", "ltx25", "r_ltx2", "r_ltx23", "r_ltx23_pro", "r_ltx25"}


def test_the_plans_model_ids_exist_on_a_cloud_deployment():
    for mid in PLAN_IDS:
        assert set(catalog.deployments_of(mid)) & {"fal", "replicate"}, mid


@pytest.mark.parametrize("model,deployment", ENTRIES)
def test_model_info_is_complete_for_the_gui(model, deployment):
    info = catalog.model_info(model, deployment)
    assert info.label and info.resolutions and info.aspect_ratios and info.fps
    assert set(info.resolutions) <= set(RESOLUTIONS) and set(info.aspect_ratios) <= set(ASPECT_RATIOS)
    assert set(info.modes) <= set(MODES) and "text-to-video" in info.modes
    assert info.min_duration <= info.max_duration
    assert 0 <= info.max_reference_images <= 3
    assert info.supports_audio == ("audio" in info.modes)
    # every resolution has a price (per second, or one price per video)
    if info.price_per_video is None:
        assert all(info.cost_per_second(r) is not None for r in info.resolutions)
    e = catalog.entry(model, deployment)
    if deployment in ("fal", "replicate"):
        for mode in info.modes:
            if mode in catalog.GENERATION_MODES:
                assert catalog.endpoint_for(e, mode)
    else:
        assert info.price_per_second == {"*": 0.0}


def test_models_for_lists_cloud_and_local_models():
    assert [m.id for m in catalog.models_for("fal")][:3] == ["ltx-2-fast", "ltx-2-pro", "ltx-2-ultra"]
    assert {m.id for m in catalog.models_for("local")} == {"ltx-2-19b", "ltx-video-13b", "ltx-video-2b"}


def test_tier_mapping_ultra_is_pro_pinned_to_2160p_50fps():
    ultra, pro = catalog.entry("ltx-2-ultra", "fal"), catalog.entry("ltx-2-pro", "fal")
    assert ultra["endpoints"]["text-to-video"] == pro["endpoints"]["text-to-video"] == "fal-ai/ltx-2/text-to-video"
    assert ultra["resolutions"] == ["2160p"] and ultra["fps"] == [50]
    assert catalog.entry("ltx-2-fast", "fal")["endpoints"]["text-to-video"].endswith("/fast")


def test_prices_per_megapixel_and_per_video():
    e = catalog.entry("ltx-2-19b", "fal")
    frames = 6 * 25 + 1
    expected = math.ceil(1280 * 720 * frames / 1e6) * 0.0018
    assert catalog.price(e, resolution="720p", aspect_ratio="16:9", fps=25, seconds=6) == pytest.approx(expected)
    e13 = catalog.entry("ltx-video-13b", "fal")
    assert catalog.price(e13, resolution="720p", aspect_ratio="16:9", fps=24, seconds=8) == 0.04
    fast = catalog.entry("ltx-2-fast", "fal")
    assert catalog.price(fast, resolution="2160p", aspect_ratio="16:9", fps=25, seconds=10) == pytest.approx(1.6)
    assert catalog.price(fast, resolution="1080p", aspect_ratio="16:9", fps=25, seconds=4,
                         mode="extend") == pytest.approx(0.4)


def test_unknown_model_or_deployment_names_the_allowed_ones():
    with pytest.raises(InvalidRequestError) as err:
        catalog.entry("ltx-3", "fal")
    assert "ltx-2-fast" in str(err.value)
    with pytest.raises(InvalidRequestError) as err:
        catalog.entry("ltx-2-pro", "local")
    assert err.value.allowed == ["fal", "replicate"]


def test_frames_snap_to_8k_plus_1():
    assert catalog.frames_for(5, 24) == 121
    assert catalog.frames_for(4, 25, snap8=True) == 105
    assert (catalog.frames_for(3.3, 30, snap8=True) - 1) % 8 == 0


@pytest.mark.parametrize("motion", CAMERA_MOTIONS)
def test_every_camera_motion_maps_to_a_lora_or_prompt_wording(motion):
    prompt, lora, scale = camera.apply("A street.", motion, 1.0, "lora")
    if motion == "none":
        assert (prompt, lora, scale) == ("A street.", None, None)
    elif camera.lora_id(motion):
        assert lora in ("dolly_in", "dolly_out", "dolly_left", "dolly_right", "jib_up", "jib_down")
        assert scale == 1.0
    else:
        assert lora is None and prompt != "A street." and "camera" in prompt
    # on an endpoint without camera control everything is prompt wording
    prompt2, lora2, _ = camera.apply("A street.", motion, 1.8, "prompt")
    assert lora2 is None and (motion == "none" or "quickly" in prompt2)


def test_camera_speed_sets_lora_strength():
    assert camera.apply("x", "crane_up", 0.5, "lora")[1:] == ("jib_up", 0.5)
    assert camera.apply("x", "dolly_backward", 2.0, "native")[1:] == ("dolly_out", 2.0)


def test_registry_builds_the_provider_and_deployment_status(monkeypatch):
    # the local backend imports torch to look for a GPU; its own tests cover it, here it only slows things down
    monkeypatch.setitem(BACKENDS, "local", "providers.ltx.no_such_backend:LocalBackend")
    monkeypatch.setenv("FAL_KEY", "fal-test-key-0001")
    provider = registry.get("ltx-video", Settings())
    assert isinstance(provider, LTXVideoProvider) and provider.name == "ltx-video"
    assert provider.unavailable_reason() is None
    status = provider.deployment_status()
    assert set(status) == {"fal", "replicate", "local", "comfyui"}
    assert status["fal"] is None and "REPLICATE_API_TOKEN" in status["replicate"]
    assert "not part of this build yet" in status["local"]


def test_a_backend_module_that_does_not_exist_yet_is_unavailable_not_a_crash(monkeypatch):
    monkeypatch.setitem(BACKENDS, "comfyui", "providers.ltx.no_such_backend:ComfyUIBackend")
    provider = LTXVideoProvider(Settings())
    assert "not part of this build yet" in provider.deployment_status()["comfyui"]
    with pytest.raises(UnavailableError, match="not part of this build yet"):
        provider.backend("comfyui")


def test_fal_url_setting_points_queue_run_and_storage_at_one_base(monkeypatch):
    from providers.ltx.fal_backend import FalBackend, apply_base_url
    monkeypatch.setenv("FAL_KEY", "fal-test-key-0001")
    try:
        FalBackend(Settings(fal_url="http://127.0.0.1:9/gw"))._fal()
        assert (fc.QUEUE_URL_FORMAT, fc.RUN_URL_FORMAT, fc.REST_URL, fc.CDN_URL) == (
            "http://127.0.0.1:9/gw/", "http://127.0.0.1:9/gw/", "http://127.0.0.1:9/gw", "http://127.0.0.1:9/gw")
    finally:
        apply_base_url(None)
    assert fc.QUEUE_URL_FORMAT.startswith("https://")


# ---------------- the model's own defaults and the optional settings each deployment takes ----------------

@pytest.mark.parametrize("model,deployment", ENTRIES)
def test_every_entry_states_defaults_that_are_its_own_allowed_values(model, deployment):
    e = catalog.entry(model, deployment)
    d = e["defaults"]
    assert tuple(d) == DEFAULT_KEYS
    assert d["resolution"] in e["resolutions"] and d["aspect_ratio"] in e["aspect_ratios"] and d["fps"] in e["fps"]
    if "durations" in e:
        assert d["duration"] in e["durations"]
    else:
        assert e["min_duration"] <= d["duration"] <= e["max_duration"]
    # a pinned tier (Ultra, fal's 2B) defaults to exactly what it pins
    assert {k: d[k] for k in e.get("pinned", {})} == e.get("pinned", {})
    rule = e.get("long_duration")
    if rule and d["duration"] > rule["above"]:
        assert d["resolution"] in rule["resolutions"] and d["fps"] in rule["fps"]
    assert catalog.model_info(model, deployment).defaults == d


@pytest.mark.parametrize("model,deployment", ENTRIES)
def test_params_name_only_the_vocabulary_in_its_order(model, deployment):
    params = catalog.entry(model, deployment)["params"]
    assert set(params) <= set(PARAMS), set(params) - set(PARAMS)
    assert list(params) == sorted(set(params), key=PARAMS.index)  # no repeats, stable order for the docs
    assert catalog.model_info(model, deployment).params == list(params)


def test_the_known_gaps_are_visible_in_the_params():
    for model, deployment in ENTRIES:
        e = catalog.entry(model, deployment)
        params = set(e["params"])
        where = f"{model} on {deployment}"
        # fal's queue and Replicate's predictions call webhooks; the user's GPU and a ComfyUI server do not
        assert ("webhook" in params) == (deployment in ("fal", "replicate")), where
        # the hosted LTX-2 / 2.3 / 2.5 APIs have no seed and no negative prompt; every open-weights endpoint has both
        assert not params & {"seed", "negative_prompt"} if e["schema"] in HOSTED_SCHEMAS else \
            {"seed", "negative_prompt"} <= params, where
        # a native camera_motion field takes no speed; a camera LoRA strength or the prompt's adverb does
        assert ("camera_speed" in params) == (e["camera"] != "native"), where
        # an audio switch exists only where the model makes sound
        assert "generate_audio" not in params or "audio" in catalog.modes_of(e), where
    assert "seed" not in catalog.entry("ltx-2-fast", "fal")["params"]
    assert "camera_speed" not in catalog.entry("ltx-2.3-pro", "replicate")["params"]
    assert "webhook" not in catalog.entry("ltx-2-19b", "comfyui")["params"]


@pytest.mark.parametrize("model,deployment", ENTRIES)
def test_a_render_with_nothing_set_takes_the_models_own_defaults(model, deployment, tmp_path):
    """`--provider ltx-video -p "a fox"` on any model: no refusal, the model's defaults, its price."""
    settings = RenderSettings(provider="ltx-video", model=model, deployment=deployment)
    plan = prepare(RenderRequest(prompt="a fox", settings=settings, output_path=tmp_path / "fox.mp4"))
    c, d = plan.detail.config, catalog.entry(model, deployment)["defaults"]
    assert (c.resolution, c.aspect_ratio, c.fps, c.duration) == (d["resolution"], d["aspect_ratio"], d["fps"],
                                                                  d["duration"])
    assert plan.adjustments == [] and plan.ignored == []


def test_ltx25_is_served_by_fal_and_replicate_with_their_own_limits():
    fast, pro = catalog.entry("ltx-2.5-fast", "fal"), catalog.entry("ltx-2.5-pro", "fal")
    assert fast["endpoints"]["text-to-video"] == "lightricks/ltx-2.5/text-to-video/fast"
    assert pro["endpoints"]["image-to-video"] == "lightricks/ltx-2.5/image-to-video/pro"
    assert catalog.deployments_of("ltx-2.5-pro") == ["fal", "comfyui"]  # Replicate has no LTX-2.5 Pro
    assert "lightricks/ltx-2.5" in catalog.endpoint_families("fal")  # a job of unknown endpoint can be cancelled
    # 720p is new with 2.5; Pro stops at 1080p, 50 fps and 10 s
    info = catalog.model_info("ltx-2.5-pro", "fal")
    assert info.resolutions == ["720p", "1080p"] and 48 not in info.fps and info.max_duration == 10
    assert catalog.price(fast, resolution="720p", aspect_ratio="16:9", fps=25, seconds=6) == pytest.approx(0.54)
    assert catalog.price(pro, resolution="1080p", aspect_ratio="9:16", fps=25, seconds=8) == pytest.approx(1.36)
    rep = catalog.model_info("ltx-2.5-fast", "replicate")
    assert rep.min_duration == 2 and "first-last-frame" in rep.modes and not rep.price_per_video


def test_a_long_ltx25_clip_above_1080p_is_refused_naming_what_is_allowed(tmp_path):
    settings = RenderSettings(provider="ltx-video", model="ltx-2.5-fast", deployment="fal", resolution="2160p",
                              duration=14)
    with pytest.raises(InvalidRequestError) as err:
        prepare(RenderRequest(prompt="a fox", settings=settings, output_path=tmp_path / "fox.mp4"))
    assert "1080p/720p" in str(err.value) and "24/25 fps" in str(err.value)


def defaults_table() -> str:
    """The docs table of every model's defaults and optional settings per deployment, from the catalog."""
    rows = [TABLE_BEGIN, "",
            "| model | deployment | resolution | aspect | fps | duration (s) | optional settings it takes |",
            "|---|---|---|---|---|---|---|"]
    for model in MODELS:
        for deployment in catalog.deployments_of(model):
            e = catalog.entry(model, deployment)
            d = e["defaults"]
            pinned = " (pinned)" if e.get("pinned") else ""
            rows.append(f"| `{model}` | {deployment} | {d['resolution']}{pinned} | {d['aspect_ratio']} | {d['fps']} | "
                        f"{d['duration']:g} | {', '.join(e['params']) or '–'} |")
    return "\n".join(rows + ["", TABLE_END])


def _doc_with_table(text: str) -> str:
    head, _, rest = text.partition(TABLE_BEGIN)
    _, _, tail = rest.partition(TABLE_END)
    return head + defaults_table() + tail


def test_the_docs_defaults_table_is_the_catalogs():
    text = DOC.read_text(encoding="utf-8")
    assert text.count(TABLE_BEGIN) == 1 and text.count(TABLE_END) == 1
    assert text == _doc_with_table(text), "Docs/ltx-models.md is stale: run python -m tests.test_ltx_catalog"


if __name__ == "__main__":
    DOC.write_text(_doc_with_table(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    sys.stdout.write(f"rewrote the defaults table in {DOC}\n")
