"""`project images` through the real CLI (subprocesses) against the OpenAI and Stability fakes on 127.0.0.1: the
estimate spends nothing, the scenes without a start frame get image takes and a start frame, --scenes and --variants,
--end-frames, --choose, and every problem at once with exit 2."""
from __future__ import annotations

import json

import pytest

from core.video.project_io import ProjectStore
from tests.cli_helpers import run_cli, run_json
from tests.images_support import openai_fake, size_of, stability_fake  # noqa: F401


def _project(tmp_path, *prompts: str):
    folder = tmp_path / "film"
    run_json("project", "new", folder, "--provider", "animatic", "--resolution", "480p")
    for p in prompts:
        run_json("project", "add-scene", folder, "-p", p, "--duration", "1")
    return folder


def test_estimate_then_images_for_every_scene_without_a_start_frame(stability_fake, tmp_path):
    folder = _project(tmp_path, "a red fox", "a lighthouse", "a train")
    est = run_json("project", "images", folder, "--provider", "stability", "--variants", "2", "--estimate")
    assert est["estimated_cost"] == pytest.approx(0.18) and [r["variants"] for r in est["scenes"]] == [2, 2, 2]
    assert est["scenes"][0]["size"] == "854x480"
    assert stability_fake.counts["submit_attempts"] == 0

    out = run_json("project", "images", folder, "--provider", "stability", "--variants", "2")
    assert out["failed"] == 0 and out["total_cost"] == pytest.approx(0.18) and out["ledger_total"] == pytest.approx(0.18)
    assert stability_fake.counts["submissions"] == 6
    project = ProjectStore.open(folder).project
    for row, scene in zip(out["scenes"], project.scenes):
        assert len(scene.image_takes) == 2 and scene.start_frame == row["frame"] == scene.image_takes[0].path
        assert size_of(folder / scene.start_frame) == (854, 480)

    # nothing left without a start frame: the default run sends nothing; --scenes asks again
    again = run_json("project", "images", folder, "--provider", "stability")
    assert again["scenes"] == [] and stability_fake.counts["submit_attempts"] == 6
    one = run_json("project", "images", folder, "--provider", "stability", "--scenes", "2")
    assert [r["scene"] for r in one["scenes"]] == [2] and len(one["scenes"][0]["takes"]) == 1
    assert ProjectStore.open(folder).project.scenes[1].start_frame == project.scenes[1].start_frame

    # choosing another take sets the start frame
    second = project.scenes[0].image_takes[1]
    chose = run_json("project", "images", folder, "--choose", "1", second.id)
    assert chose["frame"] == second.path
    assert ProjectStore.open(folder).project.scenes[0].start_frame == second.path


def test_end_frames_on_openai_send_the_start_frame_as_a_reference(openai_fake, tmp_path):
    folder = _project(tmp_path, "a red fox")
    run_json("project", "images", folder, "--provider", "openai", "--quality", "low")
    out = run_json("project", "images", folder, "--provider", "openai", "--quality", "low", "--end-frames")
    scene = ProjectStore.open(folder).project.scenes[0]
    assert scene.end_frame == out["scenes"][0]["frame"] and scene.end_frame != scene.start_frame
    assert [t.role for t in scene.image_takes] == ["start", "end"]
    assert scene.image_takes[1].references == [scene.start_frame]
    assert openai_fake.last()["path"].endswith("/images/edits")  # references go through images.edit


def test_every_problem_is_named_at_once_with_exit_2(stability_fake, tmp_path):
    folder = _project(tmp_path, "one", "two")
    doc = json.loads((folder / "project.json").read_text())
    doc["scenes"][0]["prompt"] = doc["scenes"][1]["prompt"] = ""
    (folder / "project.json").write_text(json.dumps(doc))
    proc = run_cli("project", "images", folder, "--provider", "stability", "--json")
    assert proc.returncode == 2, proc.stderr
    assert "scene 1: prompt" in proc.stderr and "scene 2: prompt" in proc.stderr
    bad = run_cli("project", "images", folder, "--variants", "11")
    assert bad.returncode == 2 and "1-10" in bad.stderr
    unknown = run_cli("project", "images", folder, "--choose", "1", "nope")
    assert unknown.returncode == 2 and "no image take" in unknown.stderr
    assert stability_fake.counts["submit_attempts"] == 0
