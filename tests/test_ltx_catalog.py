"""The LTX catalog as the GUI and validation see it, the camera mapping, and how deployments report themselves."""
from __future__ import annotations

import math

import fal_client.client as fc
import pytest

from core.config import Settings
from core.errors import InvalidRequestError, UnavailableError
from core.video.render_settings import ASPECT_RATIOS, CAMERA_MOTIONS, RESOLUTIONS
from providers import registry
from providers.base import MODES
from providers.ltx import camera, catalog
from providers.ltx_video import BACKENDS, LTXVideoProvider

PLAN_IDS = ["ltx-2-fast", "ltx-2-pro", "ltx-2-ultra", "ltx-2.3-fast", "ltx-2.3-pro", "ltx-video-13b", "ltx-video-2b"]
ENTRIES = [(m, d) for m in catalog.model_ids() for d in catalog.deployments_of(m)]


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
        provider.client.backend("comfyui")


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
