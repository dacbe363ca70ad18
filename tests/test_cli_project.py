"""Projects through the real CLI with the Animatic provider: exact clips, a moved folder, nothing rendered twice."""
import json
import shutil

from core.video.media import count_frames, probe
from tests.cli_helpers import make_image, run_cli, run_json


def test_new_add_render_info_and_move(tmp_path):
    proj = tmp_path / "proj"
    run_json("project", "new", proj, "--name", "Demo", "--fps", "24", "--resolution", "480p")
    image = make_image(tmp_path / "start.png", (1000, 700))
    run_json("project", "add-scene", proj, "-p", "Opening shot", "--duration", "2", "--image", image)
    run_json("project", "add-scene", proj, "-p", "Closing title", "--duration", "1.5")
    out = run_json("project", "render", proj)
    assert [r["status"] for r in out["scenes"]] == ["done", "done"]
    for row, seconds in zip(out["scenes"], (2.0, 1.5)):
        info = probe(row["clip"])
        assert (info.width, info.height, info.fps) == (854, 480, 24)
        assert count_frames(row["clip"]) == round(seconds * 24)
    saved = json.loads((proj / "project.json").read_text())
    assert saved["scenes"][0]["start_frame"] == "images/start.png"

    moved = tmp_path / "moved"
    shutil.move(str(proj), moved)
    info = run_json("project", "info", moved)
    assert info["missing_assets"] == [] and [s["status"] for s in info["scenes"]] == ["done", "done"]
    again = run_json("project", "render", moved)
    assert all(r["skipped"] for r in again["scenes"])
    assert [len(s["takes"]) for s in json.loads((moved / "project.json").read_text())["scenes"]] == [1, 1]


def test_render_selected_scenes_and_force(tmp_path):
    proj = tmp_path / "p"
    run_json("project", "new", proj, "--resolution", "480p")
    for i in range(3):
        run_json("project", "add-scene", proj, "-p", f"scene {i}", "--duration", "1")
    out = run_json("project", "render", proj, "--scenes", "2")
    assert [r["scene"] for r in out["scenes"]] == [2]
    out = run_json("project", "render", proj, "--scenes", "2", "--force")
    assert not out["scenes"][0]["skipped"]
    bad = run_cli("project", "render", proj, "--scenes", "7")
    assert bad.returncode == 2 and "1-3" in bad.stderr


def test_single_clip_and_estimate(tmp_path):
    out = run_json("--provider", "animatic", "-p", "A fox", "--duration", "1", "--resolution", "480p",
                   "-o", tmp_path / "fox.mp4")
    assert out["duration"] == 1.0 and (tmp_path / "fox.mp4").is_file() and out["cost"] == 0
    est = run_json("--provider", "animatic", "-p", "A fox", "--estimate")
    assert est["estimated_cost"] == 0


def test_bad_input_exit_codes(tmp_path):
    proc = run_cli("--provider", "animatic", "-p", "x", "--resolution", "9000p", "-o", tmp_path / "a.mp4")
    assert proc.returncode == 2 and "720p" in proc.stderr
    proc = run_cli("--provider", "nope", "-p", "x", "-o", tmp_path / "a.mp4")
    assert proc.returncode == 2 and "animatic" in proc.stderr  # bad input, naming the providers there are
    text = tmp_path / "not_image.png"
    text.write_text("hello")
    proc = run_cli("--provider", "animatic", "-p", "x", "--image", text, "-o", tmp_path / "a.mp4")
    assert proc.returncode == 2 and "not an image" in proc.stderr
    proc = run_cli("project", "render", tmp_path / "missing")
    assert proc.returncode == 2


def test_add_scene_with_existing_clip(tmp_path):
    clip = tmp_path / "footage.mp4"
    run_json("--provider", "animatic", "-p", "footage", "--duration", "1.5", "--resolution", "480p", "-o", clip)
    proj = tmp_path / "p"
    run_json("project", "new", proj)
    out = run_json("project", "add-scene", proj, "--clip", clip)
    assert abs(out["duration"] - 1.5) < 0.05 and out["take_id"]
    assert (proj / "clips" / "footage.mp4").is_file()
    rendered = run_json("project", "render", proj)
    assert rendered["scenes"][0]["skipped"] or rendered["scenes"][0]["status"] == "done"


def test_json_errors_are_one_object_on_stdout(tmp_path):
    import json as _json
    proc = run_cli("--provider", "animatic", "-p", "x", "--resolution", "9000p", "-o", tmp_path / "a.mp4", "--json")
    assert proc.returncode == 2
    err = _json.loads(proc.stdout)
    assert err["exit_code"] == 2 and err["error_kind"] == "invalid_request" and "720p" in err["error"]
