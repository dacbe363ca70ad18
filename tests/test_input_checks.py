"""Input checks that protect money (a QA run-through against the fal fake): a still image, or an empty, audio-only or
unreadable file, is never taken as a video (add-scene, edit-scene, the one-clip command, the planner for a project
saved before the check, compare); a scene has one video input; --scenes refuses what is not a selection of scenes;
what the app writes into a project gets the umask's mode, not mkstemp's private 0600."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cli.flags import parse_scene_list
from core.atomic import atomic_write_bytes, file_mode
from core.errors import InvalidRequestError
from core.video.media import ffmpeg_exe, video_input, video_input_problem
from core.video.project import Scene
from core.video.project_io import ProjectStore
from core.video.render_settings import RenderSettings
from tests.fakes.clips import write_clip, write_image
from tests.media_factory import make_tone
from tests.test_ltx_support import fal  # noqa: F401  (the fal fake on 127.0.0.1)

ROOT = Path(__file__).resolve().parent.parent
PNG_REFUSAL = "start.png is not a video this app can use: it looks like a PNG image (allowed: MP4, MOV"


def cli(*args, umask: int | None = None) -> subprocess.CompletedProcess:
    """The real CLI in a subprocess, under `umask` when given (the mode test must not depend on the runner's)."""
    return subprocess.run([sys.executable, "main.py", *map(str, args)], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=180,
                          preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def media(tmp_path) -> dict[str, Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    files = {"png": write_image(folder / "start.png", (64, 36)), "a": write_clip(folder / "a.mp4", 1.0),
             "b": write_clip(folder / "b.mp4", 1.0), "tone": make_tone(folder / "tone.wav", 0.5),
             "empty": folder / "empty.mp4", "text": folder / "notes.mp4", "renamed": folder / "still.mp4",
             "frame": folder / "frame.mov"}
    files["empty"].write_bytes(b"")
    files["text"].write_text("these are notes, not a clip\n" * 20)
    shutil.copy(files["png"], files["renamed"])
    # one PNG frame in a MOV: no magic bytes give it away, only FFmpeg's codec and length
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(files["png"]), "-c:v", "png", str(files["frame"])],
                   check=True)
    return files


@pytest.fixture
def quick_polls(isolated_config):
    (isolated_config / "settings.json").write_text(json.dumps({"poll_interval_s": 0.05}))
    return isolated_config


def test_the_core_check_says_what_each_non_video_is(media):
    info, why = video_input(media["a"])
    assert why is None and (info.width, info.height) == (160, 90) and video_input_problem(media["b"]) is None
    expected = {"png": "start.png is not a video this app can use: it looks like a PNG image",
                "renamed": "still.mp4 is not a video this app can use: it looks like a PNG image",
                "frame": "frame.mov is not a video this app can use: it looks like a PNG image",
                "empty": "empty.mp4 is not a video this app can use: the file is empty",
                "tone": "tone.wav is not a video this app can use: it holds audio only",
                "text": "notes.mp4 is not a video this app can use: FFmpeg cannot read it"}
    assert {k: video_input_problem(media[k]) for k in expected} == expected
    assert video_input_problem(media["a"].with_name("gone.mp4")).endswith("gone.mp4: no such file")


def test_a_still_given_as_a_video_is_refused_before_anything_is_sent(fal, quick_polls, media, tmp_path):
    proj = tmp_path / "trailer"
    assert cli("project", "new", proj, "--provider", "ltx-video", "--deployment", "fal",
               "--model", "ltx-2-fast").returncode == 0
    add = cli("project", "add-scene", proj, "-p", "x", "--source-video", media["png"])
    assert add.returncode == 2 and f"--source-video: {PNG_REFUSAL}" in add.stderr
    clip = cli("project", "add-scene", proj, "--clip", media["png"])
    assert clip.returncode == 2 and f"--clip: {PNG_REFUSAL}" in clip.stderr and "duration" not in clip.stderr
    assert cli("project", "add-scene", proj, "-p", "a race").returncode == 0
    edit = cli("project", "edit-scene", proj, "1", "--source-video", media["png"], "--extend", media["renamed"])
    assert edit.returncode == 2 and f"--source-video: {PNG_REFUSAL}" in edit.stderr
    assert "--extend: still.mp4 is not a video this app can use" in edit.stderr
    assert "--source-video and --extend given together" in edit.stderr  # every problem at once
    assert not (proj / "clips").exists() or not any((proj / "clips").iterdir())  # nothing copied in

    # a project saved before the check holds the PNG already: the planner refuses it, nothing is uploaded or paid
    store = ProjectStore.open(proj)
    store.project.scenes[0].source_video = store.import_asset(media["png"], "clips")
    store.save()
    render = cli("project", "render", proj, "--scenes", "1")
    assert render.returncode == 2 and "scene 1: " in render.stderr and PNG_REFUSAL in render.stderr
    one = cli("--provider", "ltx-video", "--deployment", "fal", "-p", "x", "--extend", media["frame"], "--estimate")
    assert one.returncode == 2 and "frame.mov is not a video this app can use: it looks like a PNG image" in one.stderr
    one = cli("--provider", "ltx-video", "--deployment", "fal", "-p", "x", "--source-video", media["png"],
              "-o", tmp_path / "out.mp4")
    assert one.returncode == 2 and PNG_REFUSAL in one.stderr and not (tmp_path / "out.mp4").exists()
    assert fal.requests == [] and fal.counts["submit_attempts"] == 0 and fal.counts["uploads"] == 0


def test_a_scene_has_one_video_input_the_later_flag_replaces_the_earlier(media, tmp_path):
    proj = tmp_path / "race"
    assert cli("project", "new", proj).returncode == 0
    assert cli("project", "add-scene", proj, "-p", "a race").returncode == 0
    assert cli("project", "edit-scene", proj, "1", "--source-video", media["a"]).returncode == 0
    later = cli("project", "edit-scene", proj, "1", "--extend", media["b"])
    assert later.returncode == 0, later.stderr
    assert "scene 1: --extend replaces its source video clips/a.mp4 (a scene has one video input)" in later.stderr
    scene = ProjectStore.open(proj).project.scenes[0]
    assert (scene.source_video, scene.extend_video) == (None, "clips/b.mp4")

    saved = (proj / "project.json").read_bytes()
    both = cli("project", "edit-scene", proj, "1", "--source-video", media["a"], "--extend", media["b"])
    assert both.returncode == 2 and "--source-video and --extend given together" in both.stderr
    both = cli("project", "add-scene", proj, "-p", "y", "--source-video", media["a"], "--extend", media["b"])
    assert both.returncode == 2 and "--source-video and --extend given together" in both.stderr
    assert (proj / "project.json").read_bytes() == saved


def test_compare_refuses_a_still(media, tmp_path):
    out = tmp_path / "s2.mp4"
    proc = cli("compare", media["a"], media["png"], "-o", out)
    assert proc.returncode == 2 and f"B: {PNG_REFUSAL}" in proc.stderr and not out.exists()
    proc = cli("compare", media["tone"], media["png"], "-o", out)
    assert proc.returncode == 2 and "A: tone.wav is not a video" in proc.stderr and "B: start.png" in proc.stderr


@pytest.mark.parametrize("text,said", [
    ("2-1", "--scenes: 2-1 is not a range"), ("", "--scenes: '' names no scene"), ("1-", "--scenes: 1- is not a range"),
    ("-2", "--scenes: -2 is not a range"), ("0,7", "--scenes: no scene 0; no scene 7"),
    ("2-9", "--scenes: no scenes 4-9"), ("1,,2", "--scenes: '1,,2' has an empty part"),
    ("one", "--scenes: 'one' is not a scene number"), ("3-1,x", "--scenes: 3-1 is not a range; 'x' is not a scene"),
])
def test_scenes_refuses_what_is_not_a_selection(text, said):
    with pytest.raises(InvalidRequestError) as err:
        parse_scene_list(text, 3)
    assert str(err.value).startswith(said)
    assert str(err.value).endswith("(allowed: N, N-M with M >= N, lists like 1,3-5; this project has scenes 1-3)")


def test_scenes_accepts_numbers_ranges_and_lists():
    assert parse_scene_list(None, 3) is None  # not given: every scene
    assert parse_scene_list(" 3 , 1-2 ", 3) == [1, 2, 3] and parse_scene_list("2,2", 3) == [2]
    assert parse_scene_list("1-1", 1) == [1]
    with pytest.raises(InvalidRequestError, match="this project has scene 1\\)"):
        parse_scene_list("2", 1)


def test_render_and_images_refuse_a_reversed_range_instead_of_every_scene(tmp_path):
    proj = tmp_path / "my_video"
    assert cli("project", "new", proj).returncode == 0
    for n in range(3):
        assert cli("project", "add-scene", proj, "-p", f"scene {n + 1}").returncode == 0
    render = cli("project", "render", proj, "--scenes", "2-1", "--estimate", "--json")
    assert render.returncode == 2 and render.stdout.count("\n") == 1
    assert json.loads(render.stdout)["error"] == ("--scenes: 2-1 is not a range (allowed: N, N-M with M >= N, lists "
                                                  "like 1,3-5; this project has scenes 1-3)")
    images = cli("project", "images", proj, "--scenes", "0,7", "--estimate")
    assert images.returncode == 2 and "--scenes: no scene 0; no scene 7" in images.stderr
    remove = cli("project", "remove-scene", proj, "3-1")
    assert remove.returncode == 2 and "scenes: 3-1 is not a range" in remove.stderr
    assert len(ProjectStore.open(proj).project.scenes) == 3


def test_a_paid_clip_gets_the_umask_mode_not_a_private_one(fal, quick_polls, tmp_path):
    out = tmp_path / "clip.mp4"
    proc = cli("--provider", "ltx-video", "--deployment", "fal", "--model", "ltx-2-fast", "--duration", "6",
               "-p", "a paper boat", "-o", out, umask=0o022)
    assert proc.returncode == 0, proc.stderr
    assert mode_of(out) == 0o644  # was 0600: the staging file's mode (mkstemp) reached the clip


def test_atomic_writes_and_images_get_the_umask_mode(tmp_path):
    from PIL import Image

    from core.images.output import save_image
    old = os.umask(0o027)
    file_mode.cache_clear()
    try:
        assert file_mode() == 0o640
        atomic_write_bytes(tmp_path / "project.json", b"{}")
        atomic_write_bytes(tmp_path / "keys.json", b"{}", mode=0o600)  # the secrets file asks for its own
        save_image(Image.new("RGB", (32, 18)), tmp_path / "frame.png", 32, 18)
    finally:
        os.umask(old)
        file_mode.cache_clear()
    assert (mode_of(tmp_path / "project.json"), mode_of(tmp_path / "keys.json")) == (0o640, 0o600)
    assert mode_of(tmp_path / "frame.png") == 0o640


def test_a_project_render_against_fal_gives_the_take_the_umask_mode(fal, quick_polls, tmp_path):
    store = ProjectStore.create(tmp_path / "p", "p")
    store.project.render = RenderSettings(provider="ltx-video", deployment="fal", model="ltx-2-fast")
    store.project.scenes.append(Scene(prompt="a lighthouse", duration=6))
    store.save()
    proc = cli("project", "render", store.folder, umask=0o002)
    assert proc.returncode == 0, proc.stderr
    take = ProjectStore.open(store.folder).project.scenes[0].selected_take
    assert mode_of(store.folder / take.clip_path) == 0o664
