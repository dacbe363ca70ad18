"""Veo end to end: the real CLI in its own process against the Veo fake in its own process (and the fal fake for a
mixed project), as a user meets it: a render killed and run again pays once, a safety refusal and a 429 as the
user sees them, forbidden combinations refused before anything is sent, a 20 s scene as a priced chain that exports
at exactly 20 s, and one project on Veo, LTX-Video and the Animatic."""
from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from core.video.media import probe
from core.video.project_io import ProjectStore
from tests.fakes.clips import write_image
from tests.service_procs import ROOT, FakeProcess, cli, cli_json, wait_for

FAST = "veo-3.1-fast-generate-preview"
STANDARD = "veo-3.1-generate-preview"
GOOGLE_VARS = ("GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION", "GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GEMINI_BASE_URL",
               "GOOGLE_VERTEX_BASE_URL", "GOOGLE_GENAI_API_VERSION", "GOOGLE_APPLICATION_CREDENTIALS",
               "IMAGEAI_VERTEX_URL")
REASON = "The video was not generated: it may violate Google's usage guidelines (celebrity likeness)."
FRAME = 1 / 24


@pytest.fixture
def quick_polls(isolated_config):
    # the CLI reads the user's settings file: poll often so the tests are quick (no test-only code path)
    (isolated_config / "settings.json").write_text(json.dumps({"veo_poll_interval_s": 0.05,
                                                               "poll_interval_s": 0.05}))
    return isolated_config


@pytest.fixture
def veo(tmp_path, monkeypatch, quick_polls):
    for var in GOOGLE_VARS:
        monkeypatch.delenv(var, raising=False)
    fake = FakeProcess("tests.fakes.veo_fake", tmp_path / "veo-state.json")
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-test-key-0001")
    monkeypatch.setenv("IMAGEAI_GEMINI_URL", fake.url)
    monkeypatch.setenv("IMAGEAI_VERTEX_URL", fake.url)
    yield fake
    fake.stop()


@pytest.fixture
def fal(tmp_path, monkeypatch, quick_polls):
    fake = FakeProcess("tests.fakes.fal_fake", tmp_path / "fal-state.json")
    monkeypatch.setenv("FAL_KEY", "fal-test-key-0001")
    monkeypatch.setenv("IMAGEAI_FAL_URL", fake.url)
    yield fake
    fake.stop()


def new_project(folder, *flags: str) -> None:
    proc = cli("project", "new", folder, *flags)
    assert proc.returncode == 0, proc.stderr


def add_scene(folder, *flags: str) -> None:
    proc = cli("project", "add-scene", folder, *flags)
    assert proc.returncode == 0, proc.stderr


def submissions(fake: FakeProcess) -> int:
    return fake.counts().get("submissions", 0)


def google_429(retry_after: str) -> dict:
    return {"status": 429, "headers": {"Retry-After": retry_after},
            "json": {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED",
                               "message": "Quota exceeded for requests per minute."}}}


# ---- a render killed and run again ---------------------------------------------------------------------------
def test_sigkill_during_a_three_scene_render_then_render_again_pays_once(veo, tmp_path):
    d = tmp_path / "proj"
    new_project(d, "--provider", "veo", "--model", FAST)
    for seconds in (4, 6, 8):
        add_scene(d, "-p", f"a {seconds} second shot of a lighthouse", "--duration", str(seconds))
    veo.config(never_finish=True)  # every job runs until the test lets it end
    render = subprocess.Popen([sys.executable, "main.py", "project", "render", str(d)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def saved_jobs():
            try:
                return [s.takes[-1].remote_job_id for s in ProjectStore.open(d).project.scenes if s.takes]
            except Exception:  # the render is writing the file: read it again
                return []
        assert wait_for(lambda: submissions(veo) == 3 and len([j for j in saved_jobs() if j]) == 3), veo.counts()
        polls = veo.counts()["status_polls"]
        assert wait_for(lambda: veo.counts().get("status_polls", 0) >= polls + 3)  # it follows them
    finally:
        render.send_signal(signal.SIGKILL)
        render.wait(30)
    assert render.returncode == -signal.SIGKILL

    project = ProjectStore.open(d).project
    assert all(s.takes[-1].status in ("submitted", "running") for s in project.scenes)
    veo.config(never_finish=False)
    out = cli_json("project", "render", d)
    assert out["failed"] == 0
    project = ProjectStore.open(d).project
    lengths = [probe(d / s.selected_take.clip_path).duration for s in project.scenes]
    assert lengths == [pytest.approx(x, abs=0.1) for x in (4, 6, 8)]
    assert veo.counts()["submissions"] == 3 and veo.counts()["submit_attempts"] == 3
    assert len(project.ledger) == 3 and project.total_cost == pytest.approx(0.15 * 18)


def test_sigkill_inside_a_long_scene_chain_submits_only_the_missing_extension(veo, tmp_path):
    d = tmp_path / "proj"
    new_project(d, "--provider", "veo", "--model", FAST)
    add_scene(d, "-p", "a long tracking shot along a beach", "--duration", "20")
    veo.config(latency=1.0)  # the base clip ends on its own; the first extension is held below
    render = subprocess.Popen([sys.executable, "main.py", "project", "render", str(d)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        record = []

        def extension_recorded():
            record[:] = list((d / "clips").rglob("*.veo-chain.json"))
            try:
                return len(json.loads(record[0].read_text())["ops"]) == 2
            except (IndexError, OSError, ValueError, KeyError):
                return False
        assert wait_for(extension_recorded), veo.counts()
        veo.config(never_finish=True)
        polls = veo.counts()["status_polls"]
        assert wait_for(lambda: veo.counts().get("status_polls", 0) >= polls + 3)
    finally:
        render.send_signal(signal.SIGKILL)
        render.wait(30)
    assert submissions(veo) == 2, "the first extension ended before the test held it: raise the latency"

    veo.config(never_finish=False, latency=0.1)
    out = cli_json("project", "render", d)
    assert out["failed"] == 0, out
    take = ProjectStore.open(d).project.scenes[0].selected_take
    assert probe(d / take.clip_path).duration == pytest.approx(22, abs=0.1)
    assert submissions(veo) == 3  # base + 2 extensions: the one submitted before the kill was followed


# ---- failures as the user sees them --------------------------------------------------------------------------
def test_a_safety_filtered_result_exits_1_with_the_reason(veo, tmp_path):
    d = tmp_path / "proj"
    new_project(d, "--provider", "veo", "--model", FAST)
    add_scene(d, "-p", "a famous actor waves", "--duration", "8")
    veo.inject("job", {"filtered": [REASON]})
    proc = cli("project", "render", d, "--json")
    assert proc.returncode == 1
    assert REASON in proc.stderr
    out = json.loads(proc.stdout)
    assert out["failed"] == 1 and REASON in out["scenes"][0]["error"]
    take = ProjectStore.open(d).project.scenes[0].takes[-1]
    assert take.status == "failed" and take.error_kind == "content_rejected" and take.clip_path is None


def test_a_429_is_retried_after_its_retry_after(veo, tmp_path):
    d = tmp_path / "proj"
    new_project(d, "--provider", "veo", "--model", FAST)
    add_scene(d, "-p", "rain on a window", "--duration", "4")
    veo.inject("submit", google_429("2"))
    proc = cli("project", "render", d)
    assert proc.returncode == 0, proc.stderr
    assert "retry 1 in 2 s" in proc.stderr  # the service's Retry-After, not the backoff's 1 s
    assert veo.counts()["submit_attempts"] == 2 and veo.counts()["submissions"] == 1
    assert ProjectStore.open(d).project.scenes[0].selected_take.status == "done"


@pytest.fixture
def refs(tmp_path):
    return [write_image(tmp_path / f"ref{i}.png", (48, 48), noise=True) for i in range(4)]


FORBIDDEN = {
    "4 references": (lambda refs: [a for r in refs for a in ("--reference", str(r))], "allowed: 0-3 images"),
    "4k at 4 s": (lambda refs: ["--resolution", "4k", "--duration", "4"], "allowed: 8 s at 4K (2160p)"),
    "21:9": (lambda refs: ["--aspect", "21:9"], "allowed: 16:9, 9:16"),
}


@pytest.mark.parametrize("case", list(FORBIDDEN))
def test_a_forbidden_combination_exits_2_naming_what_is_allowed_and_sends_nothing(veo, tmp_path, refs, case):
    flags, allowed = FORBIDDEN[case]
    proc = cli("--provider", "veo", "--model", STANDARD, "-p", "a product on a table", *flags(refs),
               "-o", tmp_path / "clip.mp4")
    assert proc.returncode == 2, proc.stderr
    assert allowed in proc.stderr
    assert veo.requests() == [] and veo.counts().get("submit_attempts", 0) == 0
    assert not (tmp_path / "clip.mp4").exists()


def test_a_project_scene_with_forbidden_settings_names_each_problem_and_sends_nothing(veo, tmp_path):
    d = tmp_path / "proj"
    new_project(d, "--provider", "veo", "--model", STANDARD)
    add_scene(d, "-p", "a product on a table", "--duration", "4", "--resolution", "4k", "--aspect", "21:9")
    proc = cli("project", "render", d)
    assert proc.returncode == 2
    assert "allowed: 8 s at 4K (2160p)" in proc.stderr and "allowed: 16:9, 9:16" in proc.stderr
    assert veo.requests() == []


# ---- a long scene ----------------------------------------------------------------------------------------------
def test_a_20_s_scene_is_a_priced_chain_shown_first_and_exports_at_exactly_20_s(veo, tmp_path):
    d = tmp_path / "proj"
    new_project(d, "--provider", "veo")
    add_scene(d, "-p", "a slow walk through a market", "--duration", "20")
    estimate = cli_json("project", "render", d, "--estimate")
    item = estimate["scenes"][0]
    assert item["model"] == STANDARD and item["render_seconds"] == 22 and item["cut_seconds"] == 20
    assert any("one 8 s clip and 2 extensions of 7 s" in a for a in item["adjustments"])
    assert estimate["estimated_cost"] == pytest.approx(0.40 * 22) == pytest.approx(item["estimated_cost"])
    assert veo.requests() == []  # shown before anything is sent

    out = cli_json("project", "render", d)
    assert out["total_cost"] == pytest.approx(0.40 * 22)
    assert veo.counts()["submissions"] == 3  # the base clip and 2 extensions, one take
    take = ProjectStore.open(d).project.scenes[0].selected_take
    assert take.rendered_seconds == 22 and probe(d / take.clip_path).duration == pytest.approx(22, abs=0.1)

    exported = cli_json("project", "export", d)
    assert abs(probe(exported["output_path"]).duration - 20.0) <= FRAME


# ---- three providers in one project ------------------------------------------------------------------------
def test_a_project_on_veo_ltx_and_the_animatic_renders_and_exports(veo, fal, tmp_path):
    d = tmp_path / "proj"
    new_project(d)  # the Animatic by default
    add_scene(d, "-p", "a fox in the snow", "--duration", "6", "--provider", "veo", "--model", FAST)
    add_scene(d, "-p", "a paper boat on a river", "--duration", "6", "--provider", "ltx-video",
              "--deployment", "fal", "--model", "ltx-2-fast")
    add_scene(d, "--title", "The end", "--duration", "3")
    estimate = cli_json("project", "render", d, "--estimate")
    assert [s["provider"] for s in estimate["scenes"]] == ["veo", "ltx-video", "animatic"]
    assert estimate["estimated_cost"] == pytest.approx(0.15 * 6 + 0.04 * 6)

    out = cli_json("project", "render", d)
    assert out["failed"] == 0
    project = ProjectStore.open(d).project
    assert [s.selected_take.provider for s in project.scenes] == ["veo", "ltx-video", "animatic"]
    assert veo.counts()["submissions"] == 1 and fal.counts()["submissions"] == 1
    assert project.total_cost == pytest.approx(0.15 * 6 + 0.04 * 6)

    exported = cli_json("project", "export", d)
    info = probe(exported["output_path"])
    assert abs(info.duration - 15.0) <= FRAME and info.has_video
