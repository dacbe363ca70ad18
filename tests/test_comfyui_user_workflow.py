"""`--workflow FILE.json`: a file nested too deeply is bad input (exit 2, the file named, no traceback), whether
json's decoder gives up on it (5,000 levels) or it parses but is deeper than a workflow can be; real workflows
load."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import InvalidRequestError
from providers.ltx.comfyui_workflows import MAX_DEPTH, TEMPLATES, load_template, load_user_workflow

ROOT = Path(__file__).resolve().parent.parent


def nested(depth: int) -> str:
    """A node whose input is a list nested `depth` levels deep."""
    return '{"1": {"class_type": "SaveVideo", "inputs": {"x": ' + "[" * depth + "]" * depth + "}}}"


def test_a_workflow_nested_5000_deep_is_refused_by_the_cli(tmp_path):
    path = tmp_path / "deep workflow.json"
    path.write_text(nested(5000), encoding="utf-8")
    proc = subprocess.run([sys.executable, "main.py", "--provider", "ltx-video", "--deployment", "comfyui",
                           "--workflow", str(path), "-p", "a fox", "--duration", "2", "-o", str(tmp_path / "o.mp4"),
                           "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert "deep workflow.json is nested too deeply" in proc.stderr and "not an API-format workflow" in proc.stderr
    assert json.loads(proc.stdout)["error_kind"] == "invalid_request"
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.parametrize("depth", [MAX_DEPTH, 900])  # 900: json parses it; the walks over it would not
def test_a_file_deeper_than_a_workflow_can_be_is_refused(tmp_path, depth):
    path = tmp_path / "w.json"
    path.write_text(nested(depth), encoding="utf-8")
    with pytest.raises(InvalidRequestError, match=rf"w\.json is nested too deeply \(more than {MAX_DEPTH} levels\)"):
        load_user_workflow(path)


def test_the_built_in_templates_load_as_user_workflows(tmp_path):
    for name in TEMPLATES:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(load_template(name)), encoding="utf-8")
        assert load_user_workflow(path) == load_template(name)
    path = tmp_path / "shallow.json"
    path.write_text(nested(MAX_DEPTH - 4), encoding="utf-8")  # the node, its inputs and the value's own levels
    assert load_user_workflow(path)["1"]["class_type"] == "SaveVideo"
