"""`project import` / `project relink` from hand-made ImageAI files (tests/data/imageai/), through the real CLI,
real files and real FFmpeg."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli, run_json
from tests.media_factory import make_clip, make_image, make_tone

DATA = Path(__file__).parent / "data" / "imageai"


@pytest.fixture
def song(tmp_path: Path) -> dict:
    """The song project as its owner left it: one image beside the file (in images/, as ImageAI's folder has it),
    the clip, music and two images somewhere else on this machine, the rest lost."""
    src = tmp_path / "old" / "Morning_Song_20251102_100000"
    (src / "images").mkdir(parents=True)
    source = src / "project.iaproj.json"
    shutil.copyfile(DATA / "song.iaproj.json", source)
    make_image(src / "images" / "scene_0_20251102_v1.png", 320, 180, (200, 120, 30, 255))
    search = tmp_path / "backup"
    (search / "deep" / "er").mkdir(parents=True)
    make_clip(search / "scene_1_20251102.mp4", duration=2.0, color="blue")
    make_tone(search / "deep" / "morning_song.wav", seconds=6.0)
    make_image(search / "deep" / "er" / "town_dawn.png", 320, 180, (30, 160, 60, 255))
    make_image(search / "style_board.png", 64, 64)
    return {"source": source, "search": search, "bytes": source.read_bytes(), "tmp": tmp_path}


def _project(folder: Path) -> dict:
    return json.loads((folder / "project.json").read_text())


def test_import_maps_every_field(song):
    dest = song["tmp"] / "new"
    out = run_json("project", "import", song["source"], dest, "--search", song["search"])
    p = _project(dest)
    assert p["name"] == "Morning Song"
    # scenes in ImageAI's `order`, not the file's list order
    assert [s["title"] for s in p["scenes"]] == ["lyric: First light on the hill", "lyric: Birds over water",
                                                 "lyric: The town wakes"]
    assert [s["duration"] for s in p["scenes"]] == [2.0, 1.5, 1.5]
    # the video prompt where there is one, else the start-frame prompt
    assert [s["prompt"] for s in p["scenes"]] == ["slow push in on a hill at sunrise, golden light",
                                                  "birds gliding low over a calm lake",
                                                  "a small town at dawn, windows lighting up"]
    one, two, three = p["scenes"]
    assert one["start_frame"] == "images/scene_0_20251102_v1.png" and (dest / one["start_frame"]).is_file()
    assert three["start_frame"] == "images/town_dawn.png" and (dest / three["start_frame"]).is_file()
    # scene 2's chosen image and end frame are lost: kept at the paths they would have had
    assert two["start_frame"] == "images/scene_1_20251102_v1.png" and not (dest / two["start_frame"]).exists()
    assert two["end_frame"] == "images/scene_1_end.png"
    assert two["reference_images"] == [{"path": "references/heron.png", "label": "heron"}]
    assert two["use_global_references"] is False
    take = two["takes"][0]
    assert (take["provider"], take["status"], two["selected_take_id"]) == ("import", "done", take["id"])
    assert (dest / take["clip_path"]).is_file() and take["clip_path"] == "clips/scene_1_20251102.mp4"
    assert one["takes"] == [] and three["takes"] == []
    assert p["reference_images"] == [{"path": "references/style_board.png", "label": "palette"}]
    r = p["render"]
    assert (r["provider"], r["aspect_ratio"], r["resolution"], r["seed"], r["negative_prompt"]) == \
        ("animatic", "16:9", "720p", 42, "blurry, text")
    e = p["export"]
    assert (e["music_path"], e["music_volume"], e["music_fade_in"], e["music_fade_out"]) == \
        ("references/morning_song.wav", 0.8, 0.5, 1.0)
    assert (dest / e["music_path"]).is_file()
    # the report: other images, what is missing and what has no place here
    assert out["other_images"] == [{"scene": 1, "images": [
        "G:\\Users\\lee\\AppData\\Roaming\\ImageAI\\video_projects\\Morning_Song_20251102_100000\\images\\"
        "scene_0_20251102_v2.png"]}]
    assert sorted(a["rel"] for a in out["missing"]) == ["images/scene_1_20251102_v1.png", "images/scene_1_end.png",
                                                       "references/heron.png"]
    notes = " | ".join(out["not_mapped"])
    assert (e["music_start"], e["music_end"]) == (1.5, None)
    assert "start_offset" not in notes and "narration track narration.wav" in notes
    assert "generation.ken_burns" in notes
    # the source is only read; a copy is kept
    assert song["source"].read_bytes() == song["bytes"]
    assert (dest / "imported" / "source.json").read_bytes() == song["bytes"]


def test_info_lists_missing_and_relink_fixes_them(song):
    dest = song["tmp"] / "new"
    proc = run_cli("project", "import", song["source"], dest, "--search", song["search"])
    assert proc.returncode == 0, proc.stderr
    assert "missing: scene 2 start frame: G:\\Users" in proc.stderr and "project relink" in proc.stderr
    info = run_cli("project", "info", dest, "--json")
    assert sorted(json.loads(info.stdout)["missing_assets"]) == [
        "images/scene_1_20251102_v1.png", "images/scene_1_end.png", "references/heron.png"]
    found = song["tmp"] / "found"
    found.mkdir()
    make_image(found / "heron.png", 64, 64, (90, 90, 90, 255))
    make_image(found / "scene_1_end.png", 320, 180)
    first = run_json("project", "relink", dest, "--search", found)
    assert sorted(a["rel"] for a in first["relinked"]) == ["images/scene_1_end.png", "references/heron.png"]
    assert [a["rel"] for a in first["missing"]] == ["images/scene_1_20251102_v1.png"]
    make_image(found / "scene_1_20251102_v1.png", 320, 180)
    run_json("project", "relink", dest, "--search", found)
    info = run_cli("project", "info", dest, "--json")
    assert info.returncode == 0 and json.loads(info.stdout)["missing_assets"] == []
    assert json.loads((dest / "imported" / "report.json").read_text())["missing"] == []


def test_missing_music_is_reported_and_relinked(song):
    (song["search"] / "deep" / "morning_song.wav").rename(song["tmp"] / "morning_song.wav")
    dest = song["tmp"] / "new"
    out = run_json("project", "import", song["source"], dest, "--search", song["search"])
    assert [a["role"] for a in out["missing"] if a["rel"].endswith(".wav")] == ["music"]
    assert out["music_pending"] == "references/morning_song.wav"
    assert _project(dest)["export"]["music_path"] is None  # an export still works, without music
    assert _project(dest)["export"]["music_volume"] == 0.8
    fixed = run_json("project", "relink", dest, "--search", song["tmp"])
    assert "references/morning_song.wav" in [a["rel"] for a in fixed["relinked"]]
    assert _project(dest)["export"]["music_path"] == "references/morning_song.wav"
    assert (dest / "references" / "morning_song.wav").is_file()


def test_veo_provider_and_model_map(tmp_path):
    out = run_json("project", "import", DATA / "veo_project.iaproj.json", tmp_path / "veo")
    r = _project(tmp_path / "veo")["render"]
    assert (r["provider"], r["model"], r["aspect_ratio"], r["resolution"], r["seed"]) == \
        ("veo", "veo-3.1-fast-generate-001", "9:16", "1080p", 9)
    assert r["negative_prompt"] is None and out["missing"] == [] and out["scenes"] == 1


@pytest.mark.parametrize("name,says", [
    ("future_v2.iaproj.json", "ImageAI schema 'imageai.video_project.v2', which this import does not read "
                              "(allowed: imageai.video_project.v1)"),
    ("layout.iaiproj.json", "JSON but not an ImageAI video project (keys: version, pages, title"),
    ("notes.yaml", "not JSON at line 1, so not an ImageAI video project"),
])
def test_not_an_imageai_project_exits_2_and_says_what_it_is(tmp_path, name, says):
    proc = run_cli("project", "import", DATA / name, tmp_path / "x")
    assert proc.returncode == 2 and says in proc.stderr, proc.stderr
    assert not (tmp_path / "x" / "project.json").exists()


def test_this_apps_own_project_is_not_imported(tmp_path):
    run_cli("project", "new", tmp_path / "mine")
    proc = run_cli("project", "import", tmp_path / "mine" / "project.json", tmp_path / "x")
    assert proc.returncode == 2 and "a project file of this app" in proc.stderr


def test_imported_project_renders_and_exports_with_its_lengths_and_music(song):
    from core.video.media import probe
    from tests.media_factory import audio_level_db as level
    dest = song["tmp"] / "new"
    run_json("project", "import", song["source"], dest, "--search", song["search"])
    found = song["tmp"] / "found"
    found.mkdir()
    make_image(found / "scene_1_20251102_v1.png", 320, 180)
    run_json("project", "relink", dest, "--search", found)
    render = run_json("project", "render", dest, "--resolution", "480p", timeout=600)
    assert [s["status"] for s in render["scenes"]] == ["done", "done", "done"]
    assert render["scenes"][1]["skipped"] is True  # the imported clip is used, not rendered again
    export = run_cli("project", "export", dest, "--json", "--clip-audio", "mute", timeout=600)
    assert export.returncode == 0, export.stderr
    info = probe(Path(json.loads(export.stdout)["output_path"]))
    assert abs(info.duration - 5.0) < 0.15 and info.has_audio
    assert level(Path(json.loads(export.stdout)["output_path"]), 2.2, 1.0) > -40  # the music, under a muted clip
    assert song["source"].read_bytes() == song["bytes"]


def test_file_names_from_any_os():
    from core.video.imageai_import import file_name
    assert file_name("G:\\Downloads\\Suno\\song.wav") == "song.wav"
    assert file_name("C:/Users/lee/Pictures/a b.png") == "a b.png"
    assert file_name("/home/lee/clips/scene_1.mp4") == "scene_1.mp4"
    assert file_name("images\\scene_2.png") == "scene_2.png"


def _write(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_own_path_first_one_copy_per_file_and_same_names_kept_apart(tmp_path):
    """A file at its own (absolute, this OS) path is used from there; a file named twice is copied once; a missing
    file whose name a found one also has gets its own path, which relink then fills."""
    from core.video.imageai_import import import_imageai, relink
    (tmp_path / "pics").mkdir()
    here = make_image(tmp_path / "pics" / "frame.png", 64, 32)
    doc = {"schema": "imageai.video_project.v1", "name": "Twice", "scenes": [
        {"duration_sec": 1.0, "prompt": "a", "approved_image": str(here), "end_frame": str(here)},
        {"duration_sec": 700, "prompt": "b", "approved_image": "E:\\lost\\frame.png"}]}
    report = import_imageai(_write(tmp_path / "p.iaproj.json", doc), tmp_path / "new")
    p = _project(tmp_path / "new")
    one, two = p["scenes"]
    assert one["start_frame"] == one["end_frame"] == "images/frame.png"
    assert [a.found for a in report.copied] == [str(here)]
    assert two["start_frame"] == "images/frame_1.png" and not (tmp_path / "new" / "images" / "frame_1.png").exists()
    assert two["duration"] == 600.0 and any("scene 2 length 700 s" in n for n in report.not_mapped)
    # the project's own frame.png is not taken for the missing one, even when the project folder is searched
    assert relink(tmp_path / "new", [tmp_path / "new"]).relinked == []
    found = tmp_path / "found"
    found.mkdir()
    make_image(found / "frame.png", 16, 16, (0, 255, 0, 255))
    out = relink(tmp_path / "new", [found])
    assert [a.rel for a in out.relinked] == ["images/frame_1.png"] and out.missing == []
    from PIL import Image
    assert Image.open(tmp_path / "new" / "images" / "frame_1.png").size == (16, 16)
    assert Image.open(tmp_path / "new" / "images" / "frame.png").size == (64, 32)


def test_a_v1_file_without_its_schema_string_is_still_read(tmp_path):
    from core.video.imageai_import import import_imageai
    doc = {"name": "Early", "scenes": [{"duration_sec": 3.0, "source": "la la", "prompt": "sea"}]}
    report = import_imageai(_write(tmp_path / "old.json", doc), tmp_path / "new")
    assert report.scenes == 1 and _project(tmp_path / "new")["scenes"][0]["title"] == "lyric: la la"


def test_an_existing_project_folder_is_refused(tmp_path):
    run_cli("project", "new", tmp_path / "mine")
    proc = run_cli("project", "import", DATA / "veo_project.iaproj.json", tmp_path / "mine")
    assert proc.returncode == 2 and "a project already exists here" in proc.stderr


def test_the_imageai_folder_can_be_given(song, tmp_path):
    dest = tmp_path / "new"
    run_json("project", "import", song["source"].parent, dest)  # the folder, not the file: its project.iaproj.json
    assert _project(dest)["scenes"][0]["start_frame"] == "images/scene_0_20251102_v1.png"
