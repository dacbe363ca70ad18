"""The Veo fake itself: it refuses what the real services refuse (so the provider tests mean something), and it runs
as a separate process whose state file counts submissions (for crash tests)."""
from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from tests.fakes.veo_fake import VeoFake
from tests.test_veo_support import Inputs, b64, provider, render, request_for

KEY = {"x-goog-api-key": "AIza-test-key-0001"}
GEMINI = "/v1beta/models/veo-3.1-generate-preview:predictLongRunning"
VERTEX = "/v1beta1/publishers/google/models/veo-3.1-generate-001:predictLongRunning"


@pytest.fixture
def fake():
    f = VeoFake(latency=0.05).start()
    yield f
    f.stop()


def post(fake, path, body, headers=KEY):
    r = httpx.post(fake.url + path, json=body, headers=headers)
    return r.status_code, r.json()


@pytest.mark.parametrize("path,body,status,words", [
    (GEMINI, {"instances": [{"prompt": "x"}], "parameters": {"seed": 1}}, 400, 'Unknown name "seed"'),
    (GEMINI, {"instances": [{"prompt": "x"}], "parameters": {"generateAudio": True}}, 400, "generateAudio"),
    (GEMINI, {"instances": [{"prompt": "x", "colour": "red"}]}, 400, 'Unknown name "colour"'),
    (GEMINI, {"instances": [{"prompt": "x"}], "parameters": {"durationSeconds": "8"}}, 400,
     "parameters.durationSeconds"),
    (GEMINI, {"instances": [{"prompt": "x"}], "parameters": {"durationSeconds": 5}}, 400, "allowed: 4, 6, 8"),
    (GEMINI, {"instances": [{"prompt": "x"}], "parameters": {"resolution": "4k", "durationSeconds": 6}}, 400,
     "must be 8 for 4k"),
    (GEMINI, {"instances": [{"prompt": "x"}], "parameters": {"aspectRatio": "21:9"}}, 400, "allowed: 16:9, 9:16"),
    (GEMINI, {"instances": [{"prompt": "x"}], "parameters": {"personGeneration": "allow_adult"}}, 400,
     "use allow_all"),
    (VERTEX, {"instances": [{"prompt": "x"}], "parameters": {"seed": -1}}, 400, "parameters.seed"),
    (VERTEX, {"instances": [{"prompt": "x"}], "parameters": {"webhookConfig": {}}}, 400, "webhookConfig"),
    ("/v1beta/models/veo-2.0-generate-001:predictLongRunning", {"instances": [{"prompt": "x"}]}, 404, "not found"),
])
def test_the_fake_refuses_what_the_service_refuses(fake, path, body, status, words):
    code, answer = post(fake, path, body)
    assert code == status and words in answer["error"]["message"]
    assert fake.counts["submissions"] == 0


def test_references_and_frames_rules(fake, tmp_path):
    inputs = Inputs(tmp_path)
    image = {"bytesBase64Encoded": b64(inputs.start), "mimeType": "image/png"}
    refs = [{"image": image, "referenceType": "ASSET"}] * 4
    code, answer = post(fake, GEMINI, {"instances": [{"prompt": "x", "referenceImages": refs}]})
    assert code == 400 and "1 to 3 images" in answer["error"]["message"]
    code, answer = post(fake, GEMINI, {"instances": [{"prompt": "x", "lastFrame": image}]})
    assert code == 400 and "needs instances[0].image" in answer["error"]["message"]
    code, answer = post(fake, GEMINI, {"instances": [{"prompt": "x", "image": {**image, "bytesBase64Encoded": "AAAA"}}],
                                       "parameters": {"personGeneration": "allow_adult"}})
    assert code == 400 and "could not be decoded" in answer["error"]["message"]
    code, answer = post(fake, GEMINI, {"instances": [{"prompt": "x"}]}, headers={})
    assert code == 403


def test_the_fake_runs_as_a_process_that_counts_submissions(tmp_path, monkeypatch):
    state = tmp_path / "state.json"
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.veo_fake", "--port", "0", "--state", str(state),
                             "--latency", "0.05"], stdout=subprocess.PIPE, text=True)
    try:
        url = json.loads(proc.stdout.readline())["url"]
        monkeypatch.setenv("GEMINI_API_KEY", "AIza-test-key-0001")
        monkeypatch.setenv("IMAGEAI_GEMINI_URL", url)
        out = tmp_path / "clips" / "a.mp4"
        plan, job, result = render(request_for("veo-3.1-lite-generate-preview", "text-to-video", Inputs(tmp_path / "in"),
                                               out), veo_provider=provider(), close=True)
        assert out.is_file()
        counts = json.loads(state.read_text())["counts"]
        assert counts["submissions"] == 1 and counts["status_polls"] >= 1
    finally:
        proc.kill()
        proc.wait()
