"""`project edit-scene`, `remove-scene`, `move-scene` through the real CLI: a scripted project is fixed without the
window, every problem is named at once, nothing is saved from a refused edit, and takes stay."""
import json
from pathlib import Path

import pytest

from core.errors import InvalidRequestError
from core.video.media import count_frames
from core.video.project_io import ProjectStore
from core.video.scene_edits import EditHistory, SetSceneField
from tests.cli_helpers import make_image, run_cli, run_json
from tests.fakes.clips import write_clip


def saved(proj: Path) -> dict:
    return json.loads((proj / "project.json").read_text())


def new_project(tmp_path, *flags) -> Path:
    proj = tmp_path / "proj"
    run_json("project", "new", proj, "--resolution", "480p", "--fps", "12", *flags)
    return proj


def test_a_missing_keyframe_is_fixed_headless_then_the_scene_renders(tmp_path):
    proj = new_project(tmp_path, "--provider", "ltx-video")
    start, key = make_image(tmp_path / "start.png"), make_image(tmp_path / "key.png", color=(200, 40, 40))
    run_json("project", "add-scene", proj, "-p", "a door opens", "--duration", "4", "--image", start,
             "--keyframe", f"3:{key}")
    (proj / "images" / "key.png").unlink()  # the scripted project now has a bad keyframe
    broken = run_cli("project", "render", proj, "--estimate")
    assert broken.returncode == 2 and "key.png: no such file" in broken.stderr

    out = run_json("project", "edit-scene", proj, "1", "--remove-keyframe", "3")
    assert out["changed"] == ["keyframes"] and out["warnings"] == []
    assert saved(proj)["scenes"][0]["keyframes"] == []
    assert run_json("project", "render", proj, "--estimate")["estimated_cost"] > 0  # the LTX plan takes it now
    done = run_json("project", "render", proj, "--provider", "animatic")
    assert done["scenes"][0]["status"] == "done" and count_frames(done["scenes"][0]["clip"]) == 4 * 12


def test_a_keyframe_left_past_the_end_by_shortening_is_fixed_by_a_longer_duration(tmp_path):
    proj = new_project(tmp_path, "--provider", "ltx-video")
    key = make_image(tmp_path / "key.png")
    run_json("project", "add-scene", proj, "-p", "waves", "--duration", "5", "--keyframe", f"4:{key}")
    store = ProjectStore.open(proj)  # the window's edit refuses to shorten past a keyframe, as the CLI does
    with pytest.raises(InvalidRequestError) as refused:
        EditHistory(store.project, lock=store.lock).push(SetSceneField(store.project.scenes[0].id, "duration", 2.0))
    assert str(refused.value) == ("duration: a 2 s scene would leave its keyframe at 4 s past the end (allowed: at "
                                  "least 4 s, without the keyframe at 4 s)")
    late = [{"seconds": 6.0, "image": "images/key.png"}]
    with pytest.raises(InvalidRequestError, match="a keyframe at 6 s is past the end of the 5 s scene"):
        EditHistory(store.project).push(SetSceneField(store.project.scenes[0].id, "keyframes", late))
    store.project.scenes[0].duration = 2.0  # as a project file from an older version can hold it
    store.save()
    assert "past the end" in run_cli("project", "render", proj, "--estimate").stderr
    note = run_json("project", "edit-scene", proj, "1", "--prompt", "big waves")["warnings"]
    assert note == ["the keyframe at 4 s is past the end of the 2 s scene: --remove-keyframe 4 or a longer --duration"]

    out = run_json("project", "edit-scene", proj, "1", "--duration", "4.5")
    assert out["changed"] == ["duration"] and out["warnings"] == []
    assert out["values"]["render"]["duration"] is None  # the scene's length is not a render setting
    done = run_json("project", "render", proj, "--provider", "animatic")
    assert done["scenes"][0]["status"] == "done" and count_frames(done["scenes"][0]["clip"]) == round(4.5 * 12)


def test_every_problem_at_once_and_nothing_saved(tmp_path):
    proj = new_project(tmp_path)
    key = make_image(tmp_path / "key.png")
    run_json("project", "add-scene", proj, "-p", "fox", "--duration", "3", "--keyframe", f"2:{key}")
    before = (proj / "project.json").read_bytes()
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    proc = run_cli("project", "edit-scene", proj, "1", "--duration", "1", "--image", text, "--unset", "colour",
                   "--camera-speed", "9", "--keyframe", f"7:{key}", "--extend", tmp_path / "gone.mp4",
                   "--remove-keyframe", "0.5")
    assert proc.returncode == 2
    for expected in ("--image: notes.png is not an image this app can use (allowed: PNG, JPEG, WebP)",
                     "--unset 'colour' is not a render setting (allowed: ",
                     "--camera-speed: Input should be less than or equal to 2",
                     "--keyframe: a keyframe at 7 s is past the end of the 1 s scene (allowed: 0-1 s)",
                     "gone.mp4: no such file",
                     "--remove-keyframe: the scene has no keyframe at 0.5 s (allowed: 2)"):
        assert expected in proc.stderr, (expected, proc.stderr)
    assert proc.stderr.startswith("error: 6 problems: ")
    zero = run_cli("project", "edit-scene", proj, "1", "--duration", "0")
    assert zero.returncode == 2 and "--duration: 0 s is not a scene length (allowed: more than 0" in zero.stderr
    late = run_cli("project", "edit-scene", proj, "1", "--duration", "1.5")
    assert late.returncode == 2 and "--remove-keyframe 2" in late.stderr
    assert (proj / "project.json").read_bytes() == before
    assert sorted(p.name for p in (proj / "images").iterdir()) == ["key.png"]  # nothing copied in either
    nosuch = run_cli("project", "edit-scene", proj, "4", "--prompt", "x")
    assert nosuch.returncode == 2 and "no scene 4 (allowed: 1-1)" in nosuch.stderr


def test_inputs_and_render_settings_are_set_cleared_and_inherited_again(tmp_path):
    proj = new_project(tmp_path, "--camera-motion", "orbit")
    first, last = make_image(tmp_path / "first.png"), make_image(tmp_path / "last.png", color=(9, 9, 9))
    refs = [make_image(tmp_path / f"ref{i}.png", color=(i * 60, 0, 0)) for i in range(3)]
    run_json("project", "add-scene", proj, "-p", "city", "--duration", "2", "--reference", refs[0])
    clip = tmp_path / "footage.mp4"
    run_json("--provider", "animatic", "-p", "footage", "--duration", "1", "--resolution", "480p", "-o", clip)

    out = run_json("project", "edit-scene", proj, "1", "--title", "City", "--image", first, "--end-image", last,
                   "--keyframe", f"1:{first}", "--reference", refs[1], "--source-video", clip,
                   "--no-global-references", "--camera-motion", "zoom_in", "--camera-speed", "1.5",
                   "--audio", "--audio-prompt", "traffic", "--seed", "7", "--negative-prompt", "rain")
    scene = saved(proj)["scenes"][0]
    assert (scene["title"], scene["start_frame"], scene["end_frame"]) == ("City", "images/first.png", "images/last.png")
    assert scene["keyframes"] == [{"seconds": 1.0, "image": "images/first.png"}]
    assert [r["path"] for r in scene["reference_images"]] == ["references/ref0.png", "references/ref1.png"]
    assert scene["source_video"] == "clips/footage.mp4" and scene["use_global_references"] is False
    assert {k: scene["render"][k] for k in ("camera_motion", "camera_speed", "include_audio", "audio_prompt",
                                            "seed", "negative_prompt")} == {
        "camera_motion": "zoom_in", "camera_speed": 1.5, "include_audio": True, "audio_prompt": "traffic",
        "seed": 7, "negative_prompt": "rain"}
    assert out["takes"] == 0

    too_many = run_cli("project", "edit-scene", proj, "1", "--reference", refs[2], "--reference", refs[2])
    assert too_many.returncode == 2 and "would have 4 reference images" in too_many.stderr
    run_json("project", "edit-scene", proj, "1", "--image", "none", "--end-image", "none", "--source-video", "none",
             "--clear-keyframes", "--clear-references", "--reference", refs[2],
             "--unset", "camera-motion", "--unset", "seed", "--unset", "audio_prompt")
    scene = saved(proj)["scenes"][0]
    assert scene["start_frame"] is scene["end_frame"] is scene["source_video"] is None and scene["keyframes"] == []
    assert [r["path"] for r in scene["reference_images"]] == ["references/ref2.png"]
    assert scene["render"]["camera_motion"] is scene["render"]["seed"] is scene["render"]["audio_prompt"] is None
    assert scene["render"]["camera_speed"] == 1.5
    info = ProjectStore.open(proj)
    assert info.project.scene_settings(info.project.scenes[0]).settings.camera_motion == "orbit"  # the project's
    both = run_cli("project", "edit-scene", proj, "1", "--seed", "3", "--unset", "seed")
    assert both.returncode == 2 and "--unset seed and --seed given together" in both.stderr


def test_a_new_provider_drops_the_old_ones_model_and_options(tmp_path):
    proj = new_project(tmp_path)
    run_json("project", "add-scene", proj, "-p", "sky", "--duration", "1", "--provider", "ltx-video",
             "--model", "ltx-2-pro", "--guidance", "3")
    run_json("project", "edit-scene", proj, "1", "--provider", "animatic")
    render = saved(proj)["scenes"][0]["render"]
    assert (render["provider"], render["model"], render["options"]) == ("animatic", None, {})
    run_json("project", "edit-scene", proj, "1", "--unset", "provider")
    assert saved(proj)["scenes"][0]["render"]["provider"] is None


def test_takes_stay_and_the_settings_hash_decides_what_renders_again(tmp_path):
    proj = new_project(tmp_path)
    for name in ("one", "two"):
        run_json("project", "add-scene", proj, "-p", name, "--duration", "1")
    first = run_json("project", "render", proj)
    out = run_json("project", "edit-scene", proj, "2", "--prompt", "two, at night")
    assert out["takes"] == 1
    scenes = saved(proj)["scenes"]
    assert [len(s["takes"]) for s in scenes] == [1, 1]
    assert scenes[1]["selected_take_id"] == first["scenes"][1]["take_id"]  # the old clip is still the one used
    again = run_json("project", "render", proj)
    assert [r["skipped"] for r in again["scenes"]] == [True, False]
    assert [len(s["takes"]) for s in saved(proj)["scenes"]] == [1, 2]
    unchanged = run_json("project", "edit-scene", proj, "1", "--prompt", "one")
    assert unchanged["changed"] == [] and run_json("project", "render", proj)["scenes"][0]["skipped"]


def test_remove_and_move_scenes(tmp_path):
    proj = new_project(tmp_path)
    for i in range(5):
        run_json("project", "add-scene", proj, "-p", f"scene {i + 1}", "--duration", "1")
    run_json("project", "render", proj, "--scenes", "2")
    clip = proj / saved(proj)["scenes"][1]["takes"][0]["clip_path"]
    out = run_json("project", "remove-scene", proj, "2,4-5")
    assert [(r["scene"], r["prompt"], r["takes"]) for r in out["removed"]] == [
        (2, "scene 2", 1), (4, "scene 4", 0), (5, "scene 5", 0)]
    assert [s["prompt"] for s in saved(proj)["scenes"]] == ["scene 1", "scene 3"]
    assert clip.is_file()  # a paid clip is not deleted with its scene
    bad = run_cli("project", "remove-scene", proj, "3")
    assert bad.returncode == 2 and "scenes: no scene 3 (allowed: N, N-M with M >= N" in bad.stderr
    assert "this project has scenes 1-2" in bad.stderr
    words = run_cli("project", "remove-scene", proj, "first")
    assert words.returncode == 2 and "scenes: 'first' is not a scene number" in words.stderr

    run_json("project", "add-scene", proj, "-p", "scene 6", "--duration", "1")
    moved = run_json("project", "move-scene", proj, "3", "--to", "1")
    assert (moved["from"], moved["to"]) == (3, 1)
    assert [s["prompt"] for s in saved(proj)["scenes"]] == ["scene 6", "scene 1", "scene 3"]
    far = run_cli("project", "move-scene", proj, "1", "--to", "9")
    assert far.returncode == 2 and "--to 9 is outside the storyboard (allowed: 1-3)" in far.stderr


def test_a_scene_with_a_render_in_progress_is_not_removed(tmp_path):
    proj = new_project(tmp_path)
    run_json("project", "add-scene", proj, "-p", "paid", "--duration", "1")
    data = saved(proj)
    data["scenes"][0]["takes"] = [{"id": "t1", "provider": "ltx-video", "status": "submitted",
                                   "remote_job_id": "job-1"}]
    (proj / "project.json").write_text(json.dumps(data))
    proc = run_cli("project", "remove-scene", proj, "1")
    assert proc.returncode == 2 and "scene 1 has a paid render in progress (take t1 is submitted)" in proc.stderr
    assert saved(proj)["scenes"][0]["takes"][0]["remote_job_id"] == "job-1"


def test_extend_scene_links_are_set_checked_shown_rendered_in_order_and_cleared(tmp_path):
    proj = new_project(tmp_path)
    for prompt in ("a fox", "the fox runs", "a lake"):
        run_json("project", "add-scene", proj, "-p", prompt, "--duration", "1")
    first = run_cli("project", "add-scene", proj, "-p", "x", "--extend-scene", "9", "--extend", tmp_path / "a.mp4")
    assert first.returncode == 2 and "--extend-scene: no scene 9 (allowed: 1, 2, 3, previous, none)" in first.stderr
    added = run_json("project", "add-scene", proj, "-p", "the lake freezes", "--duration", "1",
                     "--extend-scene", "previous")
    assert added["scene"] == 4 and added["extends_scene"] == 3
    ids = [s["id"] for s in saved(proj)["scenes"]]

    out = run_json("project", "edit-scene", proj, "2", "--extend-scene", "previous")
    assert out["changed"] == ["extend_scene_id"] and out["values"]["extend_scene_id"] == ids[0]
    before = (proj / "project.json").read_bytes()
    loop = run_cli("project", "edit-scene", proj, "1", "--extend-scene", "2")
    assert loop.returncode == 2 and "that makes a loop (scene 1 -> scene 2 -> scene 1)" in loop.stderr
    itself = run_cli("project", "edit-scene", proj, "1", "--extend-scene", "previous")
    assert itself.returncode == 2 and "scene 1 has no previous scene" in itself.stderr
    clip = tmp_path / "clip.mp4"
    write_clip(clip, 1.0)
    both = run_cli("project", "edit-scene", proj, "2", "--extend-scene", "1", "--extend", clip)
    assert both.returncode == 2 and "--extend-scene and --extend given together" in both.stderr
    assert (proj / "project.json").read_bytes() == before

    info = run_json("project", "info", proj)["scenes"]
    assert [r["extends_scene"] for r in info] == [None, 1, None, 3]
    assert info[1]["chain"] == "extends scene 1 (forward)"
    assert "(extends scene 3 (forward))" in run_cli("project", "info", proj).stderr

    estimate = run_json("project", "render", proj, "--estimate")
    assert [r["skip"] for r in estimate["scenes"]] == [None] * 4  # the children are planned (and priced) too
    assert [r["waits_for_scene_id"] for r in estimate["scenes"]] == [None, ids[0], None, ids[2]]
    done = run_json("project", "render", proj)
    assert [r["status"] for r in done["scenes"]] == ["done"] * 4

    # a clip given instead replaces the link; moving a parent after its child is allowed and said
    swapped = run_json("project", "edit-scene", proj, "4", "--extend", clip)
    assert sorted(swapped["changed"]) == ["extend_scene_id", "extend_video"]
    assert swapped["values"]["extend_scene_id"] is None and swapped["values"]["extend_video"] == "clips/clip.mp4"
    moved = run_json("project", "move-scene", proj, "1", "--to", "3")
    assert moved["warnings"] == ["scene 1: it extends scene 3 (forward), which comes after it in the storyboard"]

    removed = run_json("project", "remove-scene", proj, "3")  # the fox scene, which scene 1 now extends
    assert removed["unlinked"] == [{"scene": 1, "scene_id": ids[1], "extended": 3}]
    assert saved(proj)["scenes"][0]["extend_scene_id"] is None
    text = run_cli("project", "edit-scene", proj, "1", "--extend-scene", "none")
    assert text.returncode == 0 and "nothing changed" in text.stderr


def test_a_scene_extending_a_clip_or_a_source_keeps_its_input_with_extend_scene_none(tmp_path):
    proj = new_project(tmp_path)
    clip = tmp_path / "clip.mp4"
    write_clip(clip, 1.0)
    run_json("project", "add-scene", proj, "-p", "a fox", "--extend", clip)
    kept = run_json("project", "edit-scene", proj, "1", "--extend-scene", "none")
    assert kept["changed"] == [] and kept["values"]["extend_video"] == "clips/clip.mp4"
    # a scene has one video input: the source given replaces the clip it extended (Docs/cli.md)
    out = run_json("project", "edit-scene", proj, "1", "--extend-scene", "none", "--source-video", clip)
    assert out["changed"] == ["extend_video", "source_video"]
    assert (out["values"]["extend_video"], out["values"]["source_video"]) == (None, "clips/clip.mp4")
    assert out["replaced"] == [{"field": "extend_video", "was": "clips/clip.mp4", "by": "--source-video"}]
