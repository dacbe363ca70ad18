"""The music's start and end (a part of the music file) in the export, checked by what is heard, with real FFmpeg:
a music file whose tone changes at known seconds tells which part of it the export plays."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from core.errors import InvalidRequestError
from core.video.export import ExportSettings
from core.video.exporter import export_project
from core.video.media import ffmpeg_exe, probe
from core.video.project_io import ProjectStore
from tests.cli_helpers import run_cli, run_json
from tests.media_factory import audio_level_db, make_clip, project_with_clips

LOW, HIGH = "lowpass=f=500,lowpass=f=500", "highpass=f=1500,highpass=f=1500"  # hear only one of the two tones


def _steps(path: Path) -> Path:
    """6 s: 0-2 s a 200 Hz tone, 2-4 s a 3000 Hz tone, 4-6 s 200 Hz again."""
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y"]
    for freq in (200, 3000, 200):
        args += ["-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate=48000:duration=2"]
    args += ["-filter_complex", "[0:a][1:a][2:a]concat=n=3:v=0:a=1,volume=4", "-ac", "2", str(path)]
    subprocess.run(args, check=True, capture_output=True)
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("music_part")
    return {"music": _steps(d / "steps.wav"),
            "clips": [make_clip(d / f"c{i}.mp4", 160, 90, 24, 1.5, audio=False) for i in range(2)]}


def _export(tmp_path, media, **music) -> Path:
    store = project_with_clips(tmp_path / "p", media["clips"])
    settings = ExportSettings(quality="low", music_volume=1.0, music_path=store.import_asset(media["music"],
                                                                                             "references"), **music)
    return export_project(store, settings).output_path


def _tone(out: Path, start: float, length: float = 0.3) -> str:
    low, high = audio_level_db(out, start, length, LOW), audio_level_db(out, start, length, HIGH)
    if max(low, high) < -40:
        return "silence"
    assert abs(low - high) > 15, (low, high)
    return "low" if low > high else "high"


def test_the_export_starts_at_the_music_start_and_loops_the_part(tmp_path, media):
    out = _export(tmp_path, media, music_start=2.0, music_end=3.0)  # 1 s of the high tone, looped over 3 s
    assert [_tone(out, t) for t in (0.1, 0.6, 1.3, 2.5)] == ["high"] * 4
    assert probe(out).duration == pytest.approx(3.0, abs=0.05)


def test_without_a_loop_the_part_plays_once_then_silence(tmp_path, media):
    out = _export(tmp_path, media, music_start=1.0, music_end=2.5, music_loop=False)
    # file seconds 1-2 are low, 2-2.5 high; from 1.5 s into the export the part has ended
    assert [_tone(out, t, 0.25) for t in (0.2, 1.15, 2.0, 2.6)] == ["low", "high", "silence", "silence"]
    assert probe(out).duration == pytest.approx(3.0, abs=0.05)


def test_a_start_without_an_end_plays_to_the_file_end(tmp_path, media):
    out = _export(tmp_path, media, music_start=3.5, music_loop=False)
    # file 3.5-4 high, 4-6 low: the export's 0-0.5 s high, 0.5-2.5 s low, then the file has ended
    assert [_tone(out, t) for t in (0.1, 1.0, 2.1, 2.7)] == ["high", "low", "low", "silence"]


def test_changing_the_start_changes_the_reexported_audio(tmp_path, media):
    store = project_with_clips(tmp_path / "p", media["clips"])
    base = ExportSettings(quality="low", music_volume=1.0, music_path=store.import_asset(media["music"],
                                                                                         "references"))
    first = export_project(store, base)
    assert _tone(first.output_path, 0.5) == "low"
    again = export_project(store, base.model_copy(update={"music_start": 2.0}))
    assert any("stream copy" in r or "from the cache" in r for r in again.reused)  # the video is reused ...
    assert _tone(again.output_path, 0.5) == "high"  # ... and the audio is mixed again from the new start


def test_problems_are_named_together_before_anything_runs(tmp_path, media):
    store = project_with_clips(tmp_path / "p", media["clips"])
    music = store.import_asset(media["music"], "references")
    with pytest.raises(InvalidRequestError) as err:
        export_project(store, ExportSettings(music_path=music, music_start=7.0, music_end=9.0))
    text = str(err.value)
    assert "music start: 7 s is not inside the music file (6.00 s long)" in text
    assert "music end: 9 s is past the end of the music file" in text
    with pytest.raises(InvalidRequestError, match=r"music end .*must be after its start \(2 s\)"):
        ExportSettings(music_start=2.0, music_end=1.0).resolved()
    with pytest.raises(ValueError):
        ExportSettings(music_start=-1.0)


def test_cli_flags_are_saved_checked_and_cleared(tmp_path, media):
    store = project_with_clips(tmp_path / "p", media["clips"])
    before = (store.folder / "project.json").read_bytes()
    proc = run_cli("project", "export", store.folder, "--music", media["music"], "--music-start", "2",
                   "--music-end", "1")
    assert proc.returncode == 2 and "music end" in proc.stderr and "must be after its start (2 s)" in proc.stderr
    assert (store.folder / "project.json").read_bytes() == before  # nothing saved on a refusal
    out = run_json("project", "export", store.folder, "--music", media["music"], "--music-start", "2",
                   "--music-end", "3", "--quality", "low")
    saved = ProjectStore.open(store.folder).project.export
    assert (saved.music_start, saved.music_end) == (2.0, 3.0)
    assert _tone(Path(out["output_path"]), 2.5) == "high"
    run_json("project", "export", store.folder, "--music-end", "none", "--quality", "low")
    assert ProjectStore.open(store.folder).project.export.music_end is None


def test_imageai_offsets_are_imported_and_heard_in_the_export(tmp_path, media):
    """An ImageAI project whose music track starts 2 s into the file and ends at 3 s: imported, rendered as an
    animatic and exported, the export plays only the file's high-tone second (looped)."""
    src = tmp_path / "old"
    src.mkdir()
    shutil.copyfile(media["music"], src / "steps.wav")
    doc = {"schema": "imageai.video_project.v1", "name": "Offsets",
           "audio": {"tracks": [{"file_path": "C:\\Music\\steps.wav", "track_type": "music", "volume": 1.0,
                                 "fade_in": 0.0, "fade_out": 0.0, "start_offset": 2.0, "end_offset": 3.0}]},
           "scenes": [{"id": "scene-1", "prompt": "a hill", "duration_sec": 1.5, "order": 0},
                      {"id": "scene-2", "prompt": "a lake", "duration_sec": 1.5, "order": 1}]}
    (src / "project.iaproj.json").write_text(json.dumps(doc), encoding="utf-8")
    before = (src / "project.iaproj.json").read_bytes()
    dest = tmp_path / "new"
    report = run_json("project", "import", src, dest)
    assert report["missing"] == [] and not any("offset" in n for n in report["not_mapped"])
    export = ProjectStore.open(dest).project.export
    assert (export.music_start, export.music_end) == (2.0, 3.0)
    run_json("project", "render", dest, "--resolution", "480p", timeout=600)
    out = Path(run_json("project", "export", dest, "--quality", "low", "--clip-audio", "mute")["output_path"])
    assert [_tone(out, t) for t in (0.1, 1.2, 2.4)] == ["high"] * 3
    assert probe(out).duration == pytest.approx(3.0, abs=0.05)
    assert (src / "project.iaproj.json").read_bytes() == before
