"""Reference images: the project's are used up to what the deployment takes (an adjustment names those left out);
a scene's own beyond it are refused, naming how many it takes."""
from __future__ import annotations

import pytest

from core.errors import InvalidRequestError
from core.render.contract import RenderRequest
from core.video.render_settings import RenderSettings, layer_settings
from providers.ltx.plan import prepare
from tests.test_ltx_support import Inputs


def request(tmp_path, *, model, deployment, own=(), shared=(), start=None):
    layered = layer_settings([("project", RenderSettings(provider="ltx-video", model=model, deployment=deployment)),
                              ("scene", RenderSettings(duration=4.0))])
    return RenderRequest(prompt="the same sailor on deck", layered=layered, cut_seconds=4.0, start_image=start,
                         reference_images=list(own), project_reference_images=list(shared),
                         output_path=tmp_path / "o.mp4")


def test_project_references_beyond_the_limit_are_left_out_with_an_adjustment(tmp_path):
    i = Inputs(tmp_path / "in")
    plan = prepare(request(tmp_path, model="ltx-2-fast", deployment="fal", shared=[i.start, i.key]))
    assert plan.detail.start_image == i.start  # one reference stands in for the start frame on hosted LTX-2
    [adj] = [a for a in plan.adjustments if a.field == "reference_images"]
    assert "key.png" in adj.reason and "takes at most 1" in adj.reason


def test_project_references_on_a_deployment_without_references(tmp_path):
    i = Inputs(tmp_path / "in")
    plan = prepare(request(tmp_path, model="ltx-video-13b", deployment="comfyui", shared=[i.start, i.key]))
    assert plan.detail.references == [] and plan.detail.start_image is None
    assert any(a.field == "reference_images" and "start.png" in a.reason for a in plan.adjustments)


def test_a_scene_with_a_start_frame_leaves_project_references_out_on_hosted_ltx2(tmp_path):
    i = Inputs(tmp_path / "in")
    plan = prepare(request(tmp_path, model="ltx-2-pro", deployment="fal", shared=[i.key], start=i.start))
    assert plan.detail.start_image == i.start
    assert any(a.field == "reference_images" for a in plan.adjustments)


def test_scene_references_beyond_the_limit_are_refused(tmp_path):
    i = Inputs(tmp_path / "in")
    with pytest.raises(InvalidRequestError) as err:
        prepare(request(tmp_path, model="ltx-2-fast", deployment="fal", own=[i.start, i.key]))
    assert err.value.field == "reference_images" and "0-1 images" in str(err.value)


def test_thirteen_b_takes_references_as_conditioning(tmp_path):
    i = Inputs(tmp_path / "in")
    plan = prepare(request(tmp_path, model="ltx-video-13b", deployment="fal", shared=[i.start, i.key]))
    assert plan.detail.references == [i.start, i.key] and not plan.adjustments
