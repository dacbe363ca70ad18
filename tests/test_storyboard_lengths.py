"""A storyboard as a new user makes it: `project new P --provider ltx-video`, scenes of the lengths the edit needs
(none of which hosted LTX-2 renders exactly), `project render`, `project export`. The service receives only values
its endpoint allows, each scene renders the shortest length covering it, and the export cuts every clip to its
scene: the video lasts the sum of the scene lengths."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.video.media import count_frames, probe
from providers.ltx import catalog
from tests.test_ltx_support import fal  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
LENGTHS = [3.5, 4.2, 6.0, 7.3, 12.0]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", *map(str, args)], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def quick_polls(isolated_config):
    (isolated_config / "settings.json").write_text(json.dumps({"poll_interval_s": 0.05}))
    return isolated_config


def test_five_scenes_render_covering_lengths_and_export_to_the_scene_lengths(fal, quick_polls, tmp_path):
    proj = tmp_path / "P"
    assert cli("project", "new", proj, "--provider", "ltx-video").returncode == 0
    for i, seconds in enumerate(LENGTHS):
        proc = cli("project", "add-scene", proj, "-p", f"shot {i + 1} of a harbour at dawn", "--duration", seconds)
        assert proc.returncode == 0, proc.stderr
    estimate = cli("project", "render", proj, "--estimate", "--json")
    assert estimate.returncode == 0, estimate.stderr
    rows = json.loads(estimate.stdout)["scenes"]
    entry = catalog.entry(catalog.DEFAULT_MODEL, "fal")
    allowed = [float(d) for d in entry["durations"]]
    expected = [min(d for d in allowed if d >= s) for s in LENGTHS]
    assert [r["render_seconds"] for r in rows] == expected
    assert all(any("the export cuts it" in a for a in r["adjustments"]) for r, s, e in zip(rows, LENGTHS, expected)
               if s != e)
    assert fal.requests == []  # the estimate spent nothing

    proc = cli("project", "render", proj, "--json")
    assert proc.returncode == 0, proc.stderr
    assert fal.counts["submissions"] == len(LENGTHS)
    jobs = [r["body"] for r in fal.requests if isinstance(r.get("body"), dict) and "prompt" in r["body"]]
    assert len(jobs) == len(LENGTHS)
    for args, want in zip(sorted(jobs, key=lambda b: b["prompt"]), expected):
        assert args["duration"] in entry["durations"] and args["duration"] == want
        assert args["resolution"] in entry["resolutions"] and args["fps"] in entry["fps"]

    out = tmp_path / "final.mp4"
    proc = cli("project", "export", proj, "-o", out, "--json")
    assert proc.returncode == 0, proc.stderr
    info = probe(out)
    fps = info.fps
    assert abs(count_frames(out) - round(sum(LENGTHS) * fps)) <= 1
    assert abs(info.duration - sum(LENGTHS)) <= 1.0 / fps + 0.05
