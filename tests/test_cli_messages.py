"""The CLI's error and info messages as a user reads them: every problem of a command at once (the flags' own checks
and the plan's together, each once), named by the flag the user typed, prices that add up."""
from __future__ import annotations

import json
import re

import pytest

from cli.main import main
from cli.output import amount, money


@pytest.fixture
def run(capsys, monkeypatch):
    """The real CLI in this process: (exit code, stdout, stderr)."""
    monkeypatch.setenv("FAL_KEY", "test")
    monkeypatch.setenv("GEMINI_API_KEY", "test")
    monkeypatch.setenv("OPENAI_API_KEY", "test")

    def call(*args) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err
    return call


def problems(err: str) -> list[str]:
    """The problems of one 'error: N problems: a; b' line (or its one problem)."""
    line = next(x for x in err.splitlines() if x.startswith("error: ")).removeprefix("error: ")
    line = re.sub(r"^\d+ problems: ", "", line)
    return [p for p in re.split(r"; (?=(?:scene \d+: |[\w ]+: )?--)", line)]


@pytest.fixture
def race(tmp_path, run):
    folder = tmp_path / "race"
    assert run("project", "new", folder, "--provider", "ltx-video")[0] == 0
    for args in (("-p", "a car", "--duration", "4"), ("-p", "the chase", "--duration", "6"),
                 ("--title", "THE END", "--duration", "2")):
        assert run("project", "add-scene", folder, *args)[0] == 0
    return folder


def test_clip_reports_the_flags_problems_with_the_plans(run):
    code, _, err = run("--provider", "ltx-video", "-p", "x", "--fps", "7", "--duration", "0", "--estimate")
    assert code == 2
    found = problems(err)
    assert len(found) == 2 and found[0].startswith("--duration: ") and found[1].startswith("--fps: 7 fps")

    code, _, err = run("--provider", "ltx-video", "-p", "x", "--fps", "7", "--resolution", "999p", "--estimate")
    found = problems(err)
    assert code == 2 and [p.split(":")[0] for p in found] == ["--resolution", "--fps"]
    # the allowed list is the end of the line: no "(got '999p')" repeating what the message names
    assert found[0] == "--resolution: unknown resolution '999p' (allowed: 480p, 720p, 1080p, 1440p, 2160p, 4K)"


def test_project_render_reports_the_flags_problems_with_the_plans(run, race):
    code, _, err = run("project", "render", race, "--scenes", "1", "--fps", "7", "--resolution", "480p",
                       "--duration", "0", "--estimate")
    found = problems(err)
    assert code == 2 and len(found) == 3, err
    assert found[0].startswith("--duration: ")
    assert found[1].startswith("scene 1: --resolution: 480p is not offered")
    assert found[2].startswith("scene 1: --fps: 7 fps is not offered")


def test_options_are_named_by_their_flags(run):
    code, _, err = run("--provider", "veo", "-p", "x", "--lora", "style.safetensors", "--estimate")
    assert code == 2
    assert "error: --lora: Veo has no option --lora (allowed: --person-generation, --enhance-prompt)" in err
    assert "options." not in err and "lora_path" not in err


def test_export_reports_every_bad_flag_once_named(run, race):
    code, _, err = run("project", "export", race, "--transition", "nope", "--format", "xyz", "--music",
                       "nofile.mp3", "--resolution", "123", "--bitrate", "zz")
    found = problems(err)
    assert code == 2
    assert sorted(p.split(":")[0] for p in found) == ["--bitrate", "--format", "--music", "--resolution",
                                                      "--transition"]
    assert "--transition: unknown value 'nope' (allowed: none, fade" in err  # the field is not named twice
    assert "(got " not in err


def test_compare_reports_both_sides(run, race):
    code, _, err = run("compare", "--project", race, "--scene", "1", "--providers",
                       "foo:bar,ltx-video:nomodel@xyz", "--estimate")
    assert code == 2
    assert "no deployment 'xyz'" in err and "unknown provider 'foo'" in err and "unknown LTX model 'nomodel'" in err


def test_project_images_reports_every_problem(run, race):
    code, _, err = run("project", "images", race, "--variants", "0", "--scenes", "9", "--model", "nope",
                       "--estimate")
    found = problems(err)
    assert code == 2 and [p.split(":")[0] for p in found] == ["--variants", "--scenes", "--model"], err


@pytest.mark.parametrize("seconds", ["0", "-3", "nan", "inf", "1e9"])
def test_a_bad_scene_length_is_one_problem(run, race, seconds):
    code, _, err = run("project", "add-scene", race, "-p", "x", f"--duration={seconds}")
    assert code == 2
    assert err.count("--duration") == 1 and "problems" not in err
    assert "is not a scene length (allowed: more than 0 and at most 600 s)" in err


def test_veo_names_the_long_scene_not_an_unasked_extension(run):
    code, _, err = run("--provider", "veo", "-p", "x", "--duration", "10", "--resolution", "480p", "--estimate")
    assert code == 2
    assert "a 10 s scene is longer than one Veo clip (8 s), so it needs extensions, which Veo makes at 720p only" \
           in err
    assert "(allowed: 720p, a scene of at most 8 s)" in err and "cannot be extended" not in err


def test_unknown_flag_usage_text(capsys, race):
    from cli.flags import parse_with_sub_usage
    from cli.project import build_parser
    with pytest.raises(SystemExit):
        parse_with_sub_usage(build_parser(), ["render", str(race), "--wat"])
    err = capsys.readouterr().err
    assert err.startswith("usage: main.py project render ") and "COMMAND" not in err
    assert "main.py project render: error: unrecognized arguments: --wat" in err


def test_info_shows_titles_and_no_gaps(run, race):
    code, _, err = run("project", "info", race)
    assert code == 0
    lines = err.splitlines()
    assert lines[0] == "race: 3 scene(s), ltx-video (default model); spent $0.00"
    assert lines[3] == '    3. [not rendered] 2 s  "THE END"'
    assert not any(line != line.rstrip() or "  ;" in line for line in lines)
    assert run("project", "new", race.parent / "p2", "--fps", "24")[0] == 0
    assert run("project", "info", race.parent / "p2")[2].splitlines()[0] == \
        "p2: 0 scene(s), animatic (default model) 24 fps; spent $0.00"


def test_money_has_the_digits_of_the_price():
    assert [amount(v) for v in (0.042, 0.084, 0.252, 0.25, 1, 0, 0.1234567)] == \
        ["0.042", "0.084", "0.252", "0.25", "1.00", "0.00", "0.1235"]
    assert money(0.96) == "$0.96"


def test_image_prices_add_up(run, race):
    code, out, err = run("project", "images", race, "--provider", "openai", "--variants", "2", "--scenes", "1-3",
                         "--estimate", "--json")
    plan = json.loads(out)
    each = [row["estimated_cost"] for row in plan["scenes"]]
    code, out, err = run("project", "images", race, "--provider", "openai", "--variants", "2", "--scenes", "1-3",
                         "--estimate")
    assert code == 0 and float(out) == pytest.approx(sum(each))
    assert f"estimated cost: {money(sum(each))} for 6 image(s)" in err
    assert round(float(out) / 6, 4) * 6 == pytest.approx(float(out))  # the figure shown is the real price


def test_a_scene_longer_than_the_model_renders_is_warned_not_refused(run, race):
    code, _, err = run("project", "add-scene", race, "-p", "long", "--duration", "25")
    assert code == 0
    assert "warning: scene 4: 25 s is longer than ltx-2-fast on fal renders (at most 20 s)" in err
    code, _, err = run("project", "edit-scene", race, "1", "--duration", "30")
    assert code == 0 and "scene 1: 30 s is longer than ltx-2-fast on fal renders (at most 20 s)" in err
    code, _, err = run("project", "add-scene", race, "-p", "short", "--duration", "5")
    assert code == 0 and "warning" not in err


def test_chain_ways_out_are_neutral_in_core_and_flags_in_the_cli(run, tmp_path):
    from core.errors import InvalidRequestError
    from core.render.planner import plan_run
    from core.video.project_io import ProjectStore
    from providers import registry
    from core.config import load_settings
    folder = tmp_path / "chain"
    run("project", "new", folder, "--provider", "ltx-video")
    run("project", "add-scene", folder, "-p", "a car", "--duration", "4")
    run("project", "add-scene", folder, "-p", "b car", "--duration", "4", "--extend-scene", "1")
    store = ProjectStore.open(folder)
    with pytest.raises(InvalidRequestError) as exc:
        plan_run(store, lambda name: registry.get(name, load_settings()), [store.project.scenes[1].id])
    assert "--" not in str(exc.value)
    assert exc.value.allowed == ["render scene 1 in the same run", "clear the link"]
    code, _, err = run("project", "render", folder, "--scenes", "2", "--estimate")
    assert code == 2
    assert "(allowed: render scene 1 in the same run (--scenes 1,2), clear the link (--extend-scene none))" in err


def test_an_empty_project_is_said_with_the_flags_problems(run, tmp_path):
    run("project", "new", tmp_path / "empty")
    code, _, err = run("project", "render", tmp_path / "empty", "--fps", "0", "--estimate")
    found = problems(err)
    assert code == 2 and [p.split(":")[0] for p in found] == ["--fps", "--scenes"], err
