"""The Replicate backend with the real replicate client against the loopback Replicate fake, every catalog mode."""
from __future__ import annotations

import pytest

from core.video.media import probe
from providers.ltx.plan import prepare
from tests.test_ltx_support import Inputs, all_modes, project, render, rep, request_for  # noqa: F401


@pytest.mark.parametrize("model,mode", all_modes("replicate"))
def test_every_replicate_mode_reaches_the_right_model_and_lands_in_the_project(rep, project, tmp_path, model, mode):
    inputs = Inputs(tmp_path / "in")
    out = project.folder / "clips" / f"{model}-{mode}.mp4"
    req = request_for(model, "replicate", mode, inputs, out)
    plan = prepare(req).detail
    job, result = render(req)

    assert rep.rejected == []  # every input the backend sent is one this model takes
    sent = rep.requests[-1]
    assert sent["path"] == f"/v1/models/{plan.endpoint}/predictions"
    assert sent["prefer"] is None  # no Prefer: wait, which can return "processing" as if final
    inp = sent["body"]["input"]
    assert inp["prompt"].startswith("a red fox runs through snow")
    if mode == "image-to-video":
        assert inp["image"].startswith("data:image/png;base64,")
    if mode == "first-last-frame":
        assert inp["image"] and inp["last_frame_image"]
    if mode == "extend":
        assert inp["task"] == "extend" and inp["video"].startswith(rep.url + "/files/")
    if mode == "video-to-video":
        assert inp["task"] == "retake" and inp["retake_duration"] == pytest.approx(3.0, abs=0.1)
    if mode == "audio":
        assert inp["generate_audio"] is True and "Audio: rain on a tin roof" in inp["prompt"]
    if mode == "camera-lora":
        assert inp["camera_motion"] == "dolly_in"
    if mode == "reference-images":
        assert inp["image"].startswith(rep.url + "/files/")  # ~1 MB: uploaded through /v1/files
    if model.startswith("ltx-2") and "resolution" in inp:
        # Replicate's values: 720p (LTX-2.5 only), 1080p, 2k, 4k; never our 1440p / 2160p ids
        assert inp["resolution"] == {"720p": "720p", "1080p": "1080p", "1440p": "2k", "2160p": "4k"}[
            plan.config.resolution]

    assert out.is_file() and result.clip_path == out
    assert probe(out).duration == pytest.approx(result.duration)
    assert result.remote_job_id == job
    assert rep.counts["submissions"] == 1


def test_ultra_on_replicate_is_pro_at_4k_50fps(rep, project, tmp_path):
    req = request_for("ltx-2-ultra", "replicate", "text-to-video", Inputs(tmp_path / "in"),
                      project.folder / "clips" / "u.mp4")
    _, result = render(req)
    inp = rep.requests[-1]["body"]["input"]
    assert rep.requests[-1]["path"] == "/v1/models/lightricks/ltx-2-pro/predictions"
    assert inp["resolution"] == "4k" and inp["fps"] == 50
    assert result.cost == pytest.approx(0.24 * 6)


def test_webhook_passed_through_while_polling(rep, project, tmp_path):
    req = request_for("ltx-2-fast", "replicate", "text-to-video", Inputs(tmp_path / "in"),
                      project.folder / "clips" / "w.mp4", webhook_url="https://hooks.example.com/r")
    job, _ = render(req)
    assert rep.jobs[job]["webhook"] == "https://hooks.example.com/r"
    assert rep.counts["status_polls"] >= 1


def test_log_lines_reported_once(rep, project, tmp_path):
    rep.latency = 0.4
    events: list = []
    req = request_for("ltx-2-fast", "replicate", "text-to-video", Inputs(tmp_path / "in"),
                      project.folder / "clips" / "l.mp4")
    render(req, events=events)
    logs = [e.message for e in events if e.stage == "running"]
    assert logs and len(logs) == len(set(logs))
    assert any(e.fraction for e in events if e.stage == "running")


def test_resume_by_prediction_id_in_a_fresh_provider(rep, project, tmp_path):
    import asyncio

    from core.config import Settings
    from providers.ltx_video import LTXVideoProvider

    req = request_for("ltx-2.3-fast", "replicate", "first-last-frame", Inputs(tmp_path / "in"),
                      project.folder / "clips" / "r.mp4")

    async def once(call):
        p = LTXVideoProvider(Settings(poll_interval_s=0.05))
        try:
            return await call(p)
        finally:
            await p.aclose()

    job = asyncio.run(once(lambda p: p.submit(p.prepare(req))))
    # a new process: only the id and the request, prepared again
    result = asyncio.run(once(lambda p: p.wait(job, p.prepare(req))))
    assert result.remote_job_id == job and req.output_path.is_file()
    assert rep.counts["submissions"] == 1


# ---------------- the fake is as strict as Replicate: an input the model does not take is refused ----------------

def test_every_replicate_model_in_the_catalog_has_a_field_table():
    from providers.ltx import catalog
    from tests.fakes.ltx_fields import REPLICATE
    models = {ep for m in catalog.model_ids() if "replicate" in catalog.deployments_of(m)
              for ep in catalog.entry(m, "replicate")["endpoints"].values()}
    assert models - set(REPLICATE) == set()


@pytest.mark.parametrize("model,inp,field", [
    ("lightricks/ltx-2-fast", {"prompt": "x", "seed": 3}, "seed"),
    ("lightricks/ltx-2-pro", {"prompt": "x", "duration": 6.0}, "duration"),  # an integer field
    ("lightricks/ltx-2.5-fast", {"prompt": "x", "camera_motion": "dolly_in"}, "camera_motion"),
    ("lightricks/ltx-2.3-fast", {"prompt": "x", "resolution": "1440p"}, "resolution"),  # Replicate says "2k"
    ("lightricks/ltx-video", {"prompt": "x", "guidance_scale": 3}, "guidance_scale"),  # it is "cfg" here
])
def test_the_replicate_fake_refuses_what_the_model_does_not_take(rep, model, inp, field):
    import asyncio

    import replicate

    async def go():
        client = replicate.Client(api_token="r8_test_token_0001", base_url=rep.url)
        return await client.models.predictions.async_create(model=model, input=inp)

    with pytest.raises(replicate.exceptions.ReplicateError) as err:
        asyncio.run(go())
    assert err.value.status == 422 and f"input.{field}:" in err.value.detail
    assert rep.counts["submissions"] == 0 and rep.rejected[-1]["model"] == model
