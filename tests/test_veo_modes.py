"""The real google-genai client against the loopback Veo fake, for every mode the catalog offers on both deployments:
the request body the service received has the right fields, and the clip lands at the output path."""
from __future__ import annotations

import base64

import pytest

from core.video.media import probe
from providers.veo import catalog
from tests.test_veo_support import (PROMPT, Inputs, all_modes, b64, provider, render, request_for,  # noqa: F401
                                    submissions, veo)


@pytest.mark.parametrize("model,mode", all_modes())
def test_every_mode_sends_the_right_body_and_lands_the_clip(veo, tmp_path, model, mode):
    inputs = Inputs(tmp_path / "in")
    out = tmp_path / "proj" / "clips" / f"{model}-{mode}.mp4"
    plan, job, result = render(request_for(model, mode, inputs, out))
    deployment = catalog.deployment_of(model)

    sent = submissions(veo)
    assert len(sent) == 1 and veo.counts["submissions"] == 1
    if deployment == "gemini":
        assert sent[0]["path"] == f"/v1beta/models/{model}:predictLongRunning" and sent[0]["auth"] == "key"
        assert job.startswith(f"models/{model}/operations/")
    else:
        assert sent[0]["path"] == f"/v1beta1/publishers/google/models/{model}:predictLongRunning"
        assert job.startswith(f"publishers/google/models/{model}/operations/")
    body = sent[0]["body"]
    instance, params = body["instances"][0], body["parameters"]
    assert instance["prompt"].startswith(PROMPT)
    assert params["sampleCount"] == 1 and params["aspectRatio"] == "16:9" and params["resolution"] == "720p"
    if mode != "extend":
        assert params["durationSeconds"] == 8
    if mode == "image-to-video":
        assert instance["image"] == {"bytesBase64Encoded": b64(inputs.start), "mimeType": "image/png"}
        assert "lastFrame" not in instance
    if mode == "first-last-frame":
        assert instance["image"]["bytesBase64Encoded"] == b64(inputs.start)
        assert instance["lastFrame"] == {"bytesBase64Encoded": b64(inputs.end), "mimeType": "image/png"}
    if mode == "reference-images":
        refs = instance["referenceImages"]
        assert len(refs) == 3 and {r["referenceType"] for r in refs} == {"ASSET"}
        assert [r["image"]["bytesBase64Encoded"] for r in refs] == [b64(p) for p in inputs.refs(3)]
        assert "image" not in instance
    if mode == "extend":
        assert base64.b64decode(instance["video"]["bytesBase64Encoded"]) == inputs.video.read_bytes()
        assert "durationSeconds" not in params
    if mode == "audio":
        assert instance["prompt"].endswith("Audio: paws crunching on snow")
    if deployment == "gemini":
        assert "generateAudio" not in params and "seed" not in params  # the Gemini API has neither field
        assert params["personGeneration"] == ("allow_all" if mode in ("text-to-video", "audio") else "allow_adult")
    else:
        assert params["generateAudio"] is True and params["personGeneration"] == "allow_adult"

    assert out.is_file() and result.clip_path == out
    info = probe(out)
    assert info.duration == pytest.approx(plan.expected_seconds, abs=0.1) == pytest.approx(result.duration)
    assert info.width * 9 == info.height * 16 and info.has_audio and result.has_audio
    assert result.remote_job_id == job and result.cost == pytest.approx(plan.cost) and plan.cost > 0
    assert not list(out.parent.glob(".*"))  # no temp file and no chain record left behind
    if deployment == "gemini":
        assert any(r["path"].startswith("/v1beta/files/") and r["path"].endswith(":download?alt=media")
                   for r in veo.requests)


def test_full_size_portrait_clip_and_vertex_only_fields(veo, tmp_path):
    veo.full_size, veo.fps = True, 1  # a real 1080x1920 frame at a few frames per second
    out = tmp_path / "clips" / "tall.mp4"
    req = request_for("veo-3.1-generate-001", "text-to-video", Inputs(tmp_path / "in"), out, resolution="1080p",
                      aspect_ratio="9:16", seed=1234, negative_prompt="blurry", include_audio=False,
                      enhance_prompt=True, person_generation="dont_allow")
    plan, job, result = render(req)
    params = submissions(veo)[0]["body"]["parameters"]
    assert params == {"sampleCount": 1, "durationSeconds": 8, "aspectRatio": "9:16", "resolution": "1080p",
                      "personGeneration": "dont_allow", "negativePrompt": "blurry", "enhancePrompt": True,
                      "generateAudio": False, "seed": 1234}
    info = probe(out)
    assert (info.width, info.height) == (1080, 1920) == (result.width, result.height)
    assert not info.has_audio and result.seed == 1234
    assert result.cost == pytest.approx(0.20 * 8)


def test_4k_goes_on_the_wire_as_4k(veo, tmp_path):
    req = request_for("veo-3.1-fast-generate-preview", "text-to-video", Inputs(tmp_path / "in"),
                      tmp_path / "c" / "uhd.mp4", resolution="4k", negative_prompt="text overlays")
    plan, job, result = render(req)
    params = submissions(veo)[0]["body"]["parameters"]
    assert params["resolution"] == "4k" and params["durationSeconds"] == 8 and params["negativePrompt"] == \
        "text overlays"
    assert plan.sent["resolution"] == "2160p" and result.cost == pytest.approx(0.30 * 8)


def test_vertex_with_a_project_and_credentials(veo, tmp_path, monkeypatch):
    from google.oauth2.credentials import Credentials
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "demo-proj")
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "europe-west4")
    out = tmp_path / "c" / "p.mp4"
    plan, job, result = render(request_for("veo-3.1-generate-001", "text-to-video", Inputs(tmp_path / "in"), out),
                               veo_provider=provider(credentials=Credentials(token="test-token")), close=True)
    prefix = "projects/demo-proj/locations/europe-west4/publishers/google/models/veo-3.1-generate-001"
    assert submissions(veo)[0]["path"] == f"/v1beta1/{prefix}:predictLongRunning"
    assert submissions(veo)[0]["auth"] == "bearer" and job.startswith(prefix + "/operations/")
    polls = [r for r in veo.requests if r["path"].endswith(":fetchPredictOperation")]
    assert polls and all(r["body"] == {"operationName": job} for r in polls)
    assert out.is_file()
