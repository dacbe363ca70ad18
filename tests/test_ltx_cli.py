"""The CLI with the LTX provider: --estimate against the catalog's price table, one clip, a project with its
ledger, and a SIGKILLed project render that resumes without paying twice."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.video.media import probe
from core.video.project_io import ProjectStore
from providers.ltx import catalog
from tests.test_ltx_support import Inputs, fal, rep  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def quick_polls(isolated_config):
    # the CLI reads the user's settings file: poll often so the tests are quick (no test-only code path)
    (isolated_config / "settings.json").write_text(json.dumps({"poll_interval_s": 0.1}))
    return isolated_config


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=dict(os.environ), capture_output=True,
                          text=True, timeout=timeout)


TIER_CASES = [(m, r) for m in ("ltx-2-fast", "ltx-2-pro", "ltx-2-ultra")
              for r in catalog.entry(m, "fal")["resolutions"]]


@pytest.mark.parametrize("model,resolution", TIER_CASES)
def test_estimate_prints_the_catalog_price(fal, tmp_path, model, resolution):
    fps = catalog.entry(model, "fal")["fps"][-1] if model == "ltx-2-ultra" else 25
    proc = cli("--provider", "ltx-video", "--deployment", "fal", "--model", model, "--resolution", resolution,
               "--fps", str(fps), "--duration", "8", "-p", "x", "-o", str(tmp_path / "o.mp4"), "--estimate", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    per_second = catalog.entry(model, "fal")["price_per_second"][resolution]
    assert out["estimated_cost"] == pytest.approx(per_second * 8)
    assert fal.requests == []  # an estimate spends nothing


def test_published_tier_prices():
    # the figures fal and Lightricks publish, per second at 1080p / 1440p / 2160p
    assert catalog.model_info("ltx-2-fast", "fal").price_per_second == {"1080p": 0.04, "1440p": 0.08, "2160p": 0.16}
    assert catalog.model_info("ltx-2-pro", "fal").price_per_second == {"1080p": 0.06, "1440p": 0.12, "2160p": 0.24}
    assert catalog.model_info("ltx-2-ultra", "fal").price_per_second == {"2160p": 0.24}


def test_one_clip_from_the_cli(fal, quick_polls, tmp_path):
    out = tmp_path / "clip.mp4"
    image = Inputs(tmp_path / "in").start
    proc = cli("--provider", "ltx-video", "--deployment", "fal", "--model", "ltx-2-pro", "--resolution", "1440p",
               "--fps", "25", "--duration", "6", "--image", str(image), "--camera-motion", "zoom_in",
               "-p", "a paper boat", "-o", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.strip().splitlines()) == 1 and json.loads(proc.stdout)
    assert probe(out).duration == pytest.approx(6.0, abs=0.2)
    body = fal.requests[-1]["body"]
    assert fal.requests[-1]["path"] == "/fal-ai/ltx-2/image-to-video"
    assert body["resolution"] == "1440p" and "zooms in" in body["prompt"]
    assert "fal-test-key" not in proc.stdout + proc.stderr


def test_project_render_on_replicate_records_costs_in_the_ledger(rep, quick_polls, tmp_path):
    d = tmp_path / "proj"
    assert cli("project", "new", str(d), "--provider", "ltx-video", "--deployment", "replicate", "--model",
               "ltx-2-fast", "--resolution", "1080p", "--fps", "25").returncode == 0
    for seconds in ("6", "8"):
        p = cli("project", "add-scene", str(d), "-p", f"a {seconds} second shot", "--duration", seconds)
        assert p.returncode == 0, p.stderr
    proc = cli("project", "render", str(d), "--resolution", "1440p", "--json")  # a run override
    assert proc.returncode == 0, proc.stderr
    project = ProjectStore.open(d).project
    assert sorted(round(e.cost, 4) for e in project.ledger) == [0.48, 0.64]  # $0.08/s at 1440p
    assert sorted(round(e.estimated, 4) for e in project.ledger) == [0.48, 0.64]
    assert [r["body"]["input"]["resolution"] for r in rep.requests] == ["2k", "2k"]
    assert all((d / s.selected_take.clip_path).is_file() for s in project.scenes)


def _wait_for(pred, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_sigkill_during_project_render_then_resume_pays_once(quick_polls, tmp_path, monkeypatch):
    state = tmp_path / "fal-state.json"
    fake = subprocess.Popen([sys.executable, "-m", "tests.fakes.fal_fake", "--port", "0", "--state", str(state),
                             "--latency", "2.5"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = json.loads(fake.stdout.readline())["url"]
        monkeypatch.setenv("FAL_KEY", "fal-test-key-0001")
        monkeypatch.setenv("IMAGEAI_FAL_URL", url)
        d = tmp_path / "proj"
        assert cli("project", "new", str(d), "--provider", "ltx-video", "--deployment", "fal", "--model",
                   "ltx-2-fast", "--resolution", "1080p", "--fps", "25").returncode == 0
        for i in range(3):
            assert cli("project", "add-scene", str(d), "-p", f"shot {i}", "--duration", "6").returncode == 0

        def counts():
            try:
                return json.loads(state.read_text())["counts"]
            except (OSError, ValueError):
                return {}

        render = subprocess.Popen([sys.executable, "main.py", "project", "render", str(d)], cwd=ROOT,
                                  env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        polls_before = 0
        assert _wait_for(lambda: counts().get("submissions", 0) == 3), counts()
        polls_before = counts().get("status_polls", 0)
        assert _wait_for(lambda: counts().get("status_polls", 0) > polls_before + 2)  # it is polling
        render.send_signal(signal.SIGKILL)
        render.wait(30)
        assert render.returncode == -signal.SIGKILL

        project = ProjectStore.open(d).project
        assert all(s.takes[-1].remote_job_id and s.takes[-1].status in ("submitted", "running")
                   for s in project.scenes)
        proc = cli("project", "render", str(d), "--json", timeout=180)
        assert proc.returncode == 0, proc.stderr
        project = ProjectStore.open(d).project
        assert all(s.selected_take and (d / s.selected_take.clip_path).is_file() for s in project.scenes)
        assert counts()["submissions"] == 3 and counts()["submit_attempts"] == 3
    finally:
        fake.send_signal(signal.SIGTERM)
        fake.wait(10)


# ---------------- what the new render path does with values a model cannot take ----------------

def test_estimate_lists_the_adjusted_length_and_the_ignored_settings(fal, tmp_path):
    proc = cli("--provider", "ltx-video", "--deployment", "fal", "--model", "ltx-2-pro", "--duration", "7",
               "--seed", "5", "-p", "x", "-o", str(tmp_path / "o.mp4"), "--estimate", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    # Pro renders 6, 8 or 10 s: a 7 s scene is rendered at 8 s (and billed so), the export cuts it to 7 s
    assert (out["render_seconds"], out["cut_seconds"]) == (8.0, 7.0)
    assert out["estimated_cost"] == pytest.approx(0.06 * 8)
    assert [a["field"] for a in out["adjustments"]] == ["duration"]
    # the hosted LTX-2 API has no seed: not an error, not sent, said so
    assert [i["field"] for i in out["ignored"]] == ["seed"] and "no seed" in out["ignored"][0]["reason"]
    assert fal.requests == []


def test_a_clip_rendered_longer_than_the_scene_is_cut_to_it(fal, quick_polls, tmp_path):
    out = tmp_path / "seven.mp4"
    proc = cli("--provider", "ltx-video", "--deployment", "fal", "--model", "ltx-2-pro", "--duration", "7",
               "-p", "a kite", "-o", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    assert fal.requests[-1]["body"]["duration"] == 8  # what the model renders
    assert probe(out).duration == pytest.approx(7.0, abs=0.1)  # what the user asked for


def test_longer_than_the_model_renders_exits_2_naming_the_lengths(fal, tmp_path):
    proc = cli("--provider", "ltx-video", "--deployment", "fal", "--model", "ltx-2-pro", "--duration", "12",
               "-p", "x", "-o", str(tmp_path / "o.mp4"), "--json")
    assert proc.returncode == 2
    assert "at most 10 s" in proc.stdout and "allowed: 6, 8, 10" in proc.stdout
    assert fal.requests == []


def test_an_inherited_value_is_adapted_an_explicit_one_exits_2(fal, quick_polls, tmp_path):
    d = tmp_path / "proj"
    # the project says 720p; LTX-2 Fast starts at 1080p
    assert cli("project", "new", str(d), "--provider", "ltx-video", "--deployment", "fal", "--model", "ltx-2-fast",
               "--resolution", "720p").returncode == 0
    assert cli("project", "add-scene", str(d), "-p", "a harbour at dawn", "--duration", "6").returncode == 0
    refused = cli("project", "render", str(d), "--resolution", "720p", "--json")  # this run's own choice
    assert refused.returncode == 2 and "720p" in refused.stdout + refused.stderr and fal.requests == []
    proc = cli("project", "render", str(d), "--json")
    assert proc.returncode == 0, proc.stderr
    assert fal.requests[-1]["body"]["resolution"] == "1080p"
    take = ProjectStore.open(d).project.scenes[0].selected_take
    assert take.settings["resolution"] == "1080p"
    assert any("720p" in note and "1080p" in note for note in take.notes)  # the take says what changed
