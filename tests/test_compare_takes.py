"""`python main.py compare --project DIR --scene N --providers veo:MODEL,ltx-video:MODEL`: one scene rendered by
Veo and LTX-Video as two takes of that scene, through the real CLI against both fakes as processes; costs shown
and confirmed first, the side-by-side video, the facts table, a side that fails, a comparison killed and run again
(paid once), `project select-take`, and the old two-clip form."""
from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from core.video.media import probe
from core.video.project_io import ProjectStore
from tests.media_factory import make_clip
from tests.service_procs import ROOT, cli, cli_json, wait_for
from tests.test_veo_e2e import REASON, fal, quick_polls, veo  # noqa: F401  (fixtures)

FAST = "veo-3.1-fast-generate-preview"
SIDES = f"veo:{FAST},ltx-video:ltx-2-fast@fal"
VEO_COST, LTX_COST = 0.15 * 8, 0.04 * 8  # an 8 s scene: Veo Fast at 720p, LTX-2 Fast at 1080p
FRAME = 1 / 24


@pytest.fixture
def project(tmp_path):
    """One 8 s scene, already rendered by the Animatic (the take the user has now)."""
    d = tmp_path / "proj"
    assert cli("project", "new", d).returncode == 0
    assert cli("project", "add-scene", d, "-p", "a lighthouse in a storm", "--duration", "8").returncode == 0
    assert cli_json("project", "render", d)["failed"] == 0
    return d


def compare(d, *extra: str, **kw) -> subprocess.CompletedProcess:
    return cli("compare", "--project", d, "--scene", "1", "--providers", SIDES, *extra, **kw)


def selected(d):
    return ProjectStore.open(d).project.scenes[0].selected_take


def test_without_yes_and_no_terminal_it_shows_both_costs_and_refuses(veo, fal, project):
    proc = compare(project)  # stdin is not a terminal
    assert proc.returncode == 2
    assert f"${VEO_COST:.2f}" in proc.stderr and f"${LTX_COST:.2f}" in proc.stderr
    assert "--yes" in proc.stderr
    assert veo.requests() == [] and fal.requests() == []
    assert len(ProjectStore.open(project).project.scenes[0].takes) == 1


def test_estimate_prices_both_sides_and_spends_nothing(veo, fal, project):
    out = cli_json("compare", "--project", project, "--scene", "1", "--providers", SIDES, "--estimate")
    assert out["estimated_cost"] == pytest.approx(VEO_COST + LTX_COST)
    assert [(t["provider"], t["model"], t["estimated_cost"]) for t in out["takes"]] == [
        ("veo", FAST, pytest.approx(VEO_COST)), ("ltx-video", "ltx-2-fast", pytest.approx(LTX_COST))]
    assert veo.requests() == [] and fal.requests() == []


def test_two_takes_side_by_side_with_their_facts(veo, fal, project, tmp_path):
    animatic = selected(project).id
    out_file = tmp_path / "side_by_side.mp4"
    result = cli_json("compare", "--project", project, "--scene", "1", "--providers", SIDES, "--yes",
                      "-o", out_file)
    veo_take, ltx_take = result["takes"]
    assert (veo_take["provider"], veo_take["model"], ltx_take["provider"], ltx_take["model"]) == \
        ("veo", FAST, "ltx-video", "ltx-2-fast")
    assert veo_take["cost"] == pytest.approx(VEO_COST) and ltx_take["cost"] == pytest.approx(LTX_COST)
    assert result["total_cost"] == pytest.approx(VEO_COST + LTX_COST)
    assert veo.counts()["submissions"] == 1 and fal.counts()["submissions"] == 1

    project_now = ProjectStore.open(project).project
    scene = project_now.scenes[0]
    assert scene.selected_take_id == animatic == result["selected_take_id"]  # a comparison is not a choice
    assert {e.take_id for e in project_now.ledger} >= {veo_take["take_id"], ltx_take["take_id"]}
    for facts in (veo_take, ltx_take):
        take = scene.take(facts["take_id"])
        info = probe(project / take.clip_path)
        assert (facts["width"], facts["height"], facts["fps"], facts["has_audio"]) == \
            (info.width, info.height, info.fps, info.has_audio)
        assert facts["duration"] == pytest.approx(8, abs=0.1)
        assert facts["render_seconds"] == pytest.approx(take.render_seconds) and facts["render_seconds"] >= 0
        assert facts["sharpness"] > 0 and facts["motion"] > 0 and facts["flicker"] >= 0  # moving test pictures
    assert set(result["measures"]) == {"sharpness", "motion", "flicker"}

    side = probe(out_file)
    height = min(veo_take["height"], ltx_take["height"])
    assert side.height == height
    widths = [t["width"] * height // t["height"] for t in (veo_take, ltx_take)]
    assert abs(side.width - sum(widths)) <= 4
    assert abs(side.duration - 8) <= FRAME

    # the user keeps the LTX take; the export then uses it
    kept = cli_json("project", "select-take", project, "1", ltx_take["take_id"])
    assert kept["take_id"] == ltx_take["take_id"] == selected(project).id
    exported = cli_json("project", "export", project)
    assert probe(exported["output_path"]).height == ltx_take["height"]


def test_the_text_form_prints_the_facts_table_and_what_each_measure_means(veo, fal, project):
    proc = compare(project, "--yes")
    assert proc.returncode == 0, proc.stderr
    table = proc.stdout
    for row in ("provider", "model", "cost", "render time", "resolution", "fps", "length", "audio",
                "sharpness", "motion", "flicker"):
        assert any(line.startswith(row + " ") for line in table.splitlines()), row
    assert f"${VEO_COST:.2f}" in table and f"${LTX_COST:.2f}" in table and "ltx-2-fast" in table
    assert "sharpness: mean edge strength" in table and "flicker: spread of the overall brightness" in table
    assert "project select-take" in proc.stderr
    assert (project / "exports" / "compare-scene-1.mp4").is_file()


def test_a_side_that_fails_keeps_the_other_and_the_next_run_renders_only_the_failed_side(veo, fal, project):
    veo.inject("job", {"filtered": [REASON]})
    proc = compare(project, "--yes")
    assert proc.returncode == 1
    assert REASON in proc.stderr
    assert not (project / "exports" / "compare-scene-1.mp4").exists()
    takes = ProjectStore.open(project).project.scenes[0].takes
    assert [(t.provider, t.status) for t in takes[1:]] == [("veo", "failed"), ("ltx-video", "done")]

    proc = compare(project, "--yes")
    assert proc.returncode == 0, proc.stderr
    assert fal.counts()["submissions"] == 1  # the LTX take of the first run is reused, not paid again
    assert veo.counts()["submissions"] == 2
    assert (project / "exports" / "compare-scene-1.mp4").is_file()


def test_a_comparison_killed_and_run_again_pays_each_side_once(veo, fal, project):
    animatic = selected(project).id
    veo.config(never_finish=True)
    run = subprocess.Popen([sys.executable, "main.py", "compare", "--project", str(project), "--scene", "1",
                            "--providers", SIDES, "--yes"], cwd=ROOT, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def state():
            try:
                return {t.provider: t for t in ProjectStore.open(project).project.scenes[0].takes[1:]}
            except Exception:  # being written: read again
                return {}
        assert wait_for(lambda: (t := state()) and t.get("veo") is not None and t["veo"].remote_job_id
                        and t.get("ltx-video") is not None and t["ltx-video"].status == "done"), veo.counts()
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait(30)
    veo.config(never_finish=False)

    result = cli_json("compare", "--project", project, "--scene", "1", "--providers", SIDES, "--yes")
    assert veo.counts()["submissions"] == 1 and fal.counts()["submissions"] == 1
    scene = ProjectStore.open(project).project.scenes[0]
    assert len(scene.takes) == 3 and [t["provider"] for t in result["takes"]] == ["veo", "ltx-video"]
    assert scene.selected_take_id == animatic  # the choice from before the first, killed run
    assert not list((project / "clips").glob(".compare-*.json"))  # done: the next comparison renders anew


def test_select_take_refuses_a_take_that_is_not_done_naming_those_that_are(project):
    proc = cli("project", "select-take", project, "1", "nosuchtake")
    assert proc.returncode == 2
    assert selected(project).id in proc.stderr and "allowed:" in proc.stderr
    assert cli("project", "select-take", project, "2", selected(project).id).returncode == 2


@pytest.mark.parametrize("sides,expected", [
    (f"veo:{FAST}", "exactly two"),
    (f"veo:{FAST},veo:{FAST}", "two different"),
    (f"veo:{FAST},nosuch:model", "unknown provider"),
    ("veo:,ltx-video:ltx-2-fast", "PROVIDER:MODEL"),
])
def test_bad_sides_exit_2_and_send_nothing(veo, project, sides, expected):
    proc = cli("compare", "--project", project, "--scene", "1", "--providers", sides, "--yes")
    assert proc.returncode == 2 and expected in proc.stderr
    assert veo.requests() == []


def test_the_two_clip_form_still_works_through_main(tmp_path):
    a = make_clip(tmp_path / "a.mp4", 320, 180, 24, 1.0)
    b = make_clip(tmp_path / "b.mp4", 160, 90, 24, 1.0)
    out = tmp_path / "side.mp4"
    proc = cli("compare", a, b, "-o", out, "--json")
    assert proc.returncode == 0, proc.stderr
    assert [c["height"] for c in json.loads(proc.stdout)["clips"]] == [180, 90]
    assert probe(out).height == 90
