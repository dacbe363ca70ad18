"""`project export` and `compare` from the command line: flags saved in the project, --json, exit codes, Ctrl-C."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from cli.export import compare_main, project_export_main
from core.video.media import count_frames, probe
from core.video.project_io import ProjectStore
from tests.media_factory import make_clip, make_image, make_tone, project_with_clips

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def project(tmp_path):
    clips = [make_clip(tmp_path / f"c{i}.mp4", 320, 180, 24, 1.0, freq=300 + 100 * i) for i in range(3)]
    return project_with_clips(tmp_path / "proj", clips)


def test_flags_export_and_are_saved_in_the_project(project, tmp_path, capsys):
    music = make_tone(tmp_path / "song.mp3", 4.0, 220)
    logo = make_image(tmp_path / "logo.png")
    out = tmp_path / "final.webm"
    rc = project_export_main([str(project.folder), "--format", "webm", "--quality", "low", "--resolution", "240p",
                              "--fps", "25", "--music", str(music), "--music-volume", "0.5", "--fade-in", "1",
                              "--fade-out", "0.5", "--clip-audio", "duck", "--transition", "dissolve",
                              "--transition-duration", "0.2", "--watermark", str(logo), "--watermark-position",
                              "center", "--text", "Hello: world, it's @ me@0-1.5", "-o", str(out), "--json"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    result = json.loads(captured.out)  # exactly one JSON object on stdout
    assert Path(result["output_path"]) == out and out.exists()
    info = probe(out)
    assert (info.vcodec, info.acodec, info.height, info.fps) == ("vp9", "opus", 240, 25)
    assert count_frames(out) == 75 - 2 * 5
    saved = ProjectStore.open(project.folder).project.export
    assert (saved.format, saved.quality, saved.clip_audio, saved.transition.kind) == ("webm", "low", "duck",
                                                                                       "dissolve")
    assert saved.music_path == "references/song.mp3" and saved.watermark_path == "references/logo.png"
    assert saved.texts[0].text == "Hello: world, it's @ me" and saved.texts[0].end == 1.5
    # a destination outside the project is used for that run only: the project file never names it
    assert saved.output_path is None and str(tmp_path) not in (project.folder / "project.json").read_text()


def test_output_inside_the_project_is_saved_relative(project, capsys):
    out = project.folder / "exports" / "cut-2.mp4"
    assert project_export_main([str(project.folder), "-o", str(out), "--json"]) == 0, capsys.readouterr().err
    assert out.is_file()
    assert ProjectStore.open(project.folder).project.export.output_path == "exports/cut-2.mp4"


def export_cli(args: list[str]) -> int:
    """`python main.py project export ...` in process: typed errors become exit codes in cli.output.guarded."""
    from cli.main import main as cli_main
    return cli_main(["project", "export", *args])


def test_bad_choices_exit_2_name_the_allowed_values_and_are_not_saved(project, capsys):
    rc = export_cli([str(project.folder), "--format", "webm", "--codec", "h264"])
    err = capsys.readouterr().err
    assert rc == 2 and "error:" in err and "allowed: vp9, auto" in err
    assert ProjectStore.open(project.folder).project.export.format == "mp4"
    assert export_cli([str(project.folder), "--text", "no times"]) == 2
    assert "TEXT@START-END" in capsys.readouterr().err
    assert export_cli([str(project.folder), "--transition", "spin"]) == 2
    assert "fade" in capsys.readouterr().err
    assert export_cli([str(project.folder / "nope")]) == 2


def test_default_export_goes_to_the_projects_exports_folder(project, capsys):
    assert project_export_main([str(project.folder)]) == 0
    out = project.folder / "exports" / "proj.mp4"
    assert out.exists() and count_frames(out) == 72
    assert "exported" in capsys.readouterr().err


def test_ctrl_c_cancels_cleanly_and_keeps_the_previous_export(tmp_path):
    clips = [make_clip(tmp_path / f"c{i}.mp4", 640, 360, 24, 3.0) for i in range(4)]
    store = project_with_clips(tmp_path / "proj", clips)
    assert project_export_main([str(store.folder), "--quality", "low"]) == 0
    out = store.folder / "exports" / "proj.mp4"
    before = out.read_bytes()
    code = ("import sys; from cli.export import project_export_main as m; "
            "sys.exit(m(sys.argv[1:]))")
    proc = subprocess.Popen([sys.executable, "-c", code, str(store.folder), "--quality", "high", "--transition",
                             "fade"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if "video" in line:
            proc.send_signal(signal.SIGINT)
            break
    rest = proc.stderr.read()
    rc = proc.wait(60)
    assert rc == 1, lines + [rest]
    assert "cancelled" in rest
    assert out.read_bytes() == before
    leftovers = [p.name for p in (store.folder / "exports").iterdir() if p.name not in (".cache", "proj.mp4")]
    assert leftovers == []
    assert not list((store.folder / "exports" / ".cache").glob("work-*"))


def test_compare_puts_clips_side_by_side_and_prints_the_table(tmp_path, capsys):
    a = make_clip(tmp_path / "a.mp4", 640, 360, 24, 1.0)
    b = make_clip(tmp_path / "b.mp4", 320, 240, 30, 1.5, audio=False)
    out = tmp_path / "side.mp4"
    rc = compare_main([str(a), str(b), "--labels", "LTX-2 Pro", "Veo 3.1", "-o", str(out)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    table = captured.out
    assert "LTX-2 Pro" in table and "640x360" in table and "320x240" in table and "kb/s" in table
    info = probe(out)
    assert info.height == 240 and info.width == 320 * 240 // 240 + 640 * 240 // 360
    assert info.duration == pytest.approx(1.5, abs=0.1)


def test_compare_shows_render_time_and_cost_for_takes_of_a_project(tmp_path, capsys):
    a = make_clip(tmp_path / "a.mp4", 320, 180, 24, 1.0)
    b = make_clip(tmp_path / "b.mp4", 320, 180, 24, 1.0)
    store = project_with_clips(tmp_path / "proj", [a, b])
    for scene, cost, secs in zip(store.project.scenes, (0.4, 1.25), (30, 95)):
        take = scene.selected_take
        take.model, take.cost = "ltx-2-pro", cost
        take.submitted_at = take.created_at
        take.finished_at = take.created_at + timedelta(seconds=secs)
    store.save()
    clips = [store.resolve(s.selected_take.clip_path) for s in store.project.scenes]
    rc = compare_main([str(clips[0]), str(clips[1]), "-o", str(tmp_path / "cmp.mp4"), "--json"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert [c["cost"] for c in doc["clips"]] == [0.4, 1.25]
    assert [c["render_seconds"] for c in doc["clips"]] == [30, 95]
    from cli.main import main as cli_main
    assert cli_main(["compare", str(clips[0]), str(tmp_path / "missing.mp4"), "-o", str(tmp_path / "x.mp4")]) == 2
