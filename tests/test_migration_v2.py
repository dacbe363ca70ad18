"""Projects saved by the v1 app (schema 1, made with the previous main and kept in tests/data/v1_projects) open as
schema 2 (settings in two parts, scene settings in one shape) and render nothing again."""
import json
import shutil
from pathlib import Path

import pytest

from tests.cli_helpers import cli_env, run_json

DATA = Path(__file__).parent / "data" / "v1_projects"


def copy_of(name: str, tmp_path: Path) -> Path:
    dest = tmp_path / name
    shutil.copytree(DATA / name, dest)
    return dest


@pytest.mark.parametrize("name", ["animatic", "ltx_fal"])
def test_migrated_project_renders_nothing_again(name, tmp_path, monkeypatch):
    monkeypatch.delenv("FAL_KEY", raising=False)  # nothing may be submitted, so no key is needed
    monkeypatch.delenv("IMAGEAI_FAL_URL", raising=False)
    folder = copy_of(name, tmp_path)
    before = json.loads((folder / "project.json").read_text())
    assert before["schema_version"] == 1
    out = run_json("project", "render", str(folder), env=cli_env(IMAGEAI_CONFIG_DIR=str(tmp_path / "cfg")))
    assert all(row["skipped"] for row in out["scenes"]), out
    from core.video.project_io import ProjectStore
    project = ProjectStore.open(folder).project
    assert project.schema_version == 2
    takes = [t for s in project.scenes for t in s.takes]
    assert len(takes) == sum(len(s["takes"]) for s in before["scenes"])  # no new take, nothing paid
    assert len(project.ledger) == len(before.get("ledger", []))


def test_v1_settings_split_into_universal_and_options(tmp_path):
    from core.video.project_io import ProjectStore
    folder = copy_of("animatic", tmp_path)
    doc = json.loads((folder / "project.json").read_text())
    doc["render"].update(lora_path="style.safetensors", guidance_scale=4.0, resolution="480p")
    doc["scenes"][0]["overrides"] = {"provider": "ltx-video", "model": "ltx-video-13b", "num_inference_steps": 12}
    (folder / "project.json").write_text(json.dumps(doc))
    project = ProjectStore.open(folder).project
    assert project.render.options == {"lora_path": "style.safetensors", "guidance_scale": 4.0}
    assert project.render.resolution == "480p"
    assert project.render.fps is None  # v1 wrote the app's fixed 24 fps out; now the model's default applies
    scene = project.scenes[0]
    assert scene.render.provider == "ltx-video" and scene.render.model == "ltx-video-13b"
    assert scene.render.options == {"num_inference_steps": 12}
    assert scene.render.camera_motion == "zoom_in"  # moved from the scene into its settings
    assert all(t.hash_version == 1 for s in project.scenes for t in s.takes)


def test_changed_prompt_of_a_migrated_scene_renders_it_again(tmp_path):
    folder = copy_of("animatic", tmp_path)
    doc = json.loads((folder / "project.json").read_text())
    doc["scenes"][1]["prompt"] = "Waves at night"
    (folder / "project.json").write_text(json.dumps(doc))
    out = run_json("project", "render", str(folder), env=cli_env(IMAGEAI_CONFIG_DIR=str(tmp_path / "cfg")))
    assert [row["skipped"] for row in out["scenes"]] == [True, False]
