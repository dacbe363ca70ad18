"""The Fal backend with the real fal-client against the loopback fal fake, for every mode the catalog offers."""
from __future__ import annotations

import asyncio

import fal_client.client as fc
import pytest

from core.config import Settings
from core.video.media import probe
from providers.ltx import catalog
from providers.ltx.plan import prepare
from providers.ltx_video import LTXVideoProvider
from tests.test_ltx_support import FAST, Inputs, all_modes, fal, project, render, request_for  # noqa: F401


def test_fal_client_constants_we_override_exist():
    # fal-client 1.0.3 has no host argument; the backend points these module constants at IMAGEAI_FAL_URL
    for name in ("RUN_URL_FORMAT", "QUEUE_URL_FORMAT", "REST_URL", "CDN_URL"):
        assert isinstance(getattr(fc, name), str)


@pytest.mark.parametrize("model,mode", all_modes("fal"))
def test_every_fal_mode_reaches_the_right_endpoint_and_lands_in_the_project(fal, project, tmp_path, model, mode):
    inputs = Inputs(tmp_path / "in")
    out = project.folder / "clips" / f"{model}-{mode}.mp4"
    req = request_for(model, "fal", mode, inputs, out)
    plan = prepare(req).detail
    job, result = render(req)

    assert fal.rejected == []  # every field the backend sent is one this endpoint takes
    sent = fal.requests[-1]
    assert sent["path"] == "/" + plan.endpoint
    assert sent["auth"] == "Key "
    body = sent["body"]
    assert body["prompt"].startswith("a red fox runs through snow")
    if mode == "image-to-video":
        assert body.get("image_url", "").startswith("data:image/png;base64,") or body["images"][0]["image_url"]
    if mode == "first-last-frame":
        if "images" in body:
            assert [i["start_frame_num"] for i in body["images"]] == [0, body["num_frames"] - 1]
        else:
            assert body["image_url"] and body["end_image_url"]
    if mode == "multi-keyframe":
        frames = [i["start_frame_num"] for i in body["images"]]
        assert frames[0] == 0 and frames[1] > 0 and all(f % 8 == 0 for f in frames)
    if mode in ("extend", "video-to-video"):
        video = body.get("video_url") or (body.get("video") or {}).get("video_url") or body["videos"][0]["video_url"]
        assert video.startswith(fal.url + "/files/")  # videos always go through fal storage
    if mode == "audio":
        assert body["generate_audio"] is True and "Audio: rain on a tin roof" in body["prompt"]
    if mode == "camera-lora":
        if plan.schema == "ltx25":  # LTX-2.5's native field takes the camera-LoRA names, no strength
            assert body["camera_motion"] == "dolly_in" and "camera_lora" not in body
        else:
            assert body["camera_lora"] == "dolly_in" and body["camera_lora_scale"] == 1.0
    if mode == "lora":
        assert body["loras"][0]["path"].startswith(fal.url + "/files/") and body["loras"][0]["scale"] == 1.0
        if catalog.entry(model, "fal").get("lora_endpoints"):
            assert sent["path"].endswith("/lora")
    if mode == "reference-images":
        if "images" in body:
            assert body["images"][-1]["strength"] < 1
        assert fal.counts["uploads"] >= 1  # a ~1 MB image is uploaded, not inlined

    assert out.is_file() and result.clip_path == out
    assert probe(out).duration == pytest.approx(result.duration)
    assert result.remote_job_id == job
    assert not list(out.parent.glob("*.part"))
    assert fal.counts["submissions"] == 1


def test_hosted_request_fields_match_fal_schema(fal, project, tmp_path):
    inputs = Inputs(tmp_path / "in")
    req = request_for("ltx-2.3-fast", "fal", "first-last-frame", inputs, project.folder / "clips" / "a.mp4",
                      resolution="1080p", fps=24, duration=8, aspect_ratio="9:16", include_audio=True,
                      camera_motion="orbit", camera_speed=0.6)
    job, result = render(req)
    body = fal.requests[-1]["body"]
    assert fal.requests[-1]["path"] == "/fal-ai/ltx-2.3/image-to-video/fast"
    assert {k: body[k] for k in ("duration", "resolution", "fps", "aspect_ratio", "generate_audio")} == {
        "duration": 8, "resolution": "1080p", "fps": 24, "aspect_ratio": "9:16", "generate_audio": True}
    assert "The camera slowly orbits around the subject." in body["prompt"]  # no orbit LoRA: prompt wording
    assert result.cost == pytest.approx(0.04 * 8)
    assert result.has_audio


def test_ultra_is_pro_at_2160p_50fps(fal, project, tmp_path):
    req = request_for("ltx-2-ultra", "fal", "text-to-video", Inputs(tmp_path / "in"), project.folder / "clips" / "u.mp4")
    render(req)
    sent = fal.requests[-1]
    assert sent["path"] == "/fal-ai/ltx-2/text-to-video"
    assert sent["body"]["resolution"] == "2160p" and sent["body"]["fps"] == 50


def test_webhook_is_passed_through_and_polling_still_runs(fal, project, tmp_path):
    req = request_for("ltx-2-fast", "fal", "text-to-video", Inputs(tmp_path / "in"),
                      project.folder / "clips" / "w.mp4", webhook_url="https://hooks.example.com/ltx")
    job, _ = render(req)
    assert fal.jobs[job]["webhook"] == "https://hooks.example.com/ltx"
    assert fal.counts["status_polls"] >= 1


def test_progress_reports_queue_position_and_each_log_line_once(fal, project, tmp_path):
    fal.queue_time = 0.2
    events: list = []
    req = request_for("ltx-2-fast", "fal", "text-to-video", Inputs(tmp_path / "in"), project.folder / "clips" / "p.mp4")
    render(req, events=events)
    stages = [e.stage for e in events]
    assert "queued" in stages and any(e.queue_position == 0 for e in events if e.stage == "queued")
    logs = [e.message for e in events if e.stage == "running"]
    assert logs and len(logs) == len(set(logs))  # fal resends the whole list on every poll
    assert stages[-1] == "done"


def test_poll_interval_comes_from_settings(fal, project, tmp_path):
    fal.latency = 0.6
    req = request_for("ltx-2-fast", "fal", "text-to-video", Inputs(tmp_path / "in"), project.folder / "clips" / "i.mp4")
    render(req, settings=Settings(poll_interval_s=0.3))
    # 0.6 s of work polled every 0.3 s: a handful of polls, not fal-client's 0.1 s default (6+)
    assert fal.counts["status_polls"] <= 5


def test_resume_in_a_fresh_provider_polls_the_same_job_without_submitting(fal, project, tmp_path):
    req = request_for("ltx-2-pro", "fal", "image-to-video", Inputs(tmp_path / "in"), project.folder / "clips" / "r.mp4")

    async def submit_only():
        p = LTXVideoProvider(Settings(**FAST))
        try:
            return await p.submit(p.prepare(req))
        finally:
            await p.aclose()

    job = asyncio.run(submit_only())

    async def resume():
        p = LTXVideoProvider(Settings(**FAST))  # a new process knows only the id and the request
        try:
            return await p.wait(job, p.prepare(req))
        finally:
            await p.aclose()

    result = asyncio.run(resume())
    assert result.remote_job_id == job and req.output_path.is_file()
    assert fal.counts["submissions"] == 1


def test_small_images_inline_large_ones_upload(fal, project, tmp_path):
    inputs = Inputs(tmp_path / "in")
    req = request_for("ltx-2-fast", "fal", "image-to-video", inputs, project.folder / "clips" / "s.mp4",
                      start_image=inputs.big)
    render(req)
    assert fal.requests[-1]["body"]["image_url"].startswith(fal.url + "/files/")
    assert fal.counts["uploads"] == 1


def test_catalog_prices_are_what_the_result_costs(fal, project, tmp_path):
    req = request_for("ltx-video-13b", "fal", "text-to-video", Inputs(tmp_path / "in"),
                      project.folder / "clips" / "c.mp4")
    _, result = render(req)
    assert result.cost == catalog.entry("ltx-video-13b", "fal")["price_per_video"]


def test_cancel_from_a_fresh_process_finds_the_job(fal, project, tmp_path):
    # after a restart the provider knows only the request id: it tries each LTX queue family
    fal.never_finish = True
    req = request_for("ltx-2.3-pro", "fal", "text-to-video", Inputs(tmp_path / "in"), project.folder / "clips" / "x.mp4")

    async def once(call):
        p = LTXVideoProvider(Settings(**FAST))
        try:
            return await call(p)
        finally:
            await p.aclose()

    job = asyncio.run(once(lambda p: p.submit(p.prepare(req))))
    asyncio.run(once(lambda p: p.cancel(job)))  # no plan: the endpoint is not known either
    assert fal.jobs[job]["cancelled"]


def test_provider_generate_prepares_and_dispatches(fal, project, tmp_path):
    req = request_for("ltx-video-2b", "fal", "image-to-video", Inputs(tmp_path / "in"),
                      project.folder / "clips" / "g.mp4", seed=7, guidance_scale=3.5, num_inference_steps=20)

    async def go():
        provider = LTXVideoProvider(Settings(**FAST))
        try:
            return await provider.generate(req)
        finally:
            await provider.aclose()

    result = asyncio.run(go())
    body = fal.requests[-1]["body"]
    assert fal.requests[-1]["path"] == "/fal-ai/ltx-video/image-to-video"
    assert (body["seed"], body["guidance_scale"], body["num_inference_steps"]) == (7, 3.5, 20)
    assert result.clip_path.is_file() and result.duration == pytest.approx(5.0, abs=0.2)


# ---------------- the fake is as strict as fal: a body with a field the endpoint does not take is refused ----------------

def _fal_endpoints() -> set[str]:
    out = set()
    for m in catalog.model_ids():
        if "fal" in catalog.deployments_of(m):
            e = catalog.entry(m, "fal")
            out |= set(e["endpoints"].values()) | set(e.get("lora_endpoints", {}).values())
            out |= {e["reference_endpoint"]} if e.get("reference_endpoint") else set()
    return out


def test_every_fal_endpoint_in_the_catalog_has_a_field_table():
    from tests.fakes.ltx_fields import FAL
    assert _fal_endpoints() - set(FAL) == set()


@pytest.mark.parametrize("app,body,field", [
    ("fal-ai/ltx-2/text-to-video/fast", {"prompt": "x", "seed": 3}, "seed"),  # the hosted API has no seed
    ("fal-ai/ltx-2/text-to-video", {"prompt": "x", "duration": 12}, "duration"),  # Pro: 6, 8 or 10
    ("fal-ai/ltx-2/text-to-video", {"prompt": "x", "aspect_ratio": "9:16"}, "aspect_ratio"),  # 2.3 has it, 2 not
    ("fal-ai/ltx-2.3/image-to-video", {"prompt": "x"}, "image_url"),  # required
    ("fal-ai/ltx-2-19b/text-to-video", {"prompt": "x", "loras": [{"path": "https://h/x"}]}, "loras"),  # /lora only
    ("fal-ai/ltx-2-19b/text-to-video", {"prompt": "x", "num_frames": "121"}, "num_frames"),  # ill-typed
    ("fal-ai/ltx-video-13b-distilled", {"prompt": "x", "guidance_scale": 3}, "guidance_scale"),
    ("lightricks/ltx-2.5/text-to-video/pro", {"prompt": "x", "resolution": "2160p"}, "resolution"),
])
def test_the_fal_fake_refuses_what_the_endpoint_does_not_take(fal, app, body, field):
    from providers.ltx.fal_backend import _map, apply_base_url

    async def go():
        client = fc.AsyncClient(key="fal-test-key-0001")
        try:
            await client.submit(app, body)
        finally:
            if "_client" in vars(client):
                await (await client._client).aclose()

    apply_base_url(fal.url)
    try:
        with pytest.raises(fc.FalClientHTTPError) as err:
            asyncio.run(go())
    finally:
        apply_base_url(None)
    assert err.value.status_code == 422
    message = str(_map(err.value, on_submit=True))
    assert f"{field}:" in message  # the app shows which field, as fal's own answer names it
    assert fal.counts["submissions"] == 0 and fal.rejected[-1]["app"] == app
