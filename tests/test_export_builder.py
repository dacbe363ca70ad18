"""The pure parts: settings ids and validation, filtergraph escaping, the frame timeline, and golden command lines.

Goldens live in tests/golden/export/; after an intended change rewrite them with UPDATE_GOLDEN=1 and review the diff.
"""
from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import pytest

from core.errors import InvalidRequestError
from core.video import ffmpeg_command as fc
from core.video.export import (AUDIO_CODECS, AUDIO_CODECS_FOR_FORMAT, CLIP_AUDIO_MODES, CODECS_FOR_FORMAT,
                               FORMATS, QUALITIES, TRANSITIONS, VIDEO_CODECS, WATERMARK_POSITIONS,
                               ExportSettings, TextOverlay, TransitionSpec, parse_bitrate)
from core.video.filters import literal, path_value
from core.video.media import MediaInfo
from core.video.project import VideoProject
from core.video.timeline import plan_timeline, target_size

GOLDEN = Path(__file__).parent / "golden" / "export"


# --- settings ----------------------------------------------------------------------------------------------------
def test_defaults_are_valid_and_the_project_still_builds():
    project = VideoProject()
    assert project.export.resolved() == ("mp4", "h264", "aac")
    # a project saved by the earlier two-field stub loads
    assert ExportSettings.model_validate({"format": "mp4", "video_codec": "h264"}).video_codec == "h264"


def test_id_tables_are_consistent_for_the_gui():
    for fmt in FORMATS:
        assert set(CODECS_FOR_FORMAT[fmt]) <= set(VIDEO_CODECS) - {"auto"}
        assert set(AUDIO_CODECS_FOR_FORMAT[fmt]) <= set(AUDIO_CODECS) - {"auto"}
    for table in (FORMATS, VIDEO_CODECS, QUALITIES, TRANSITIONS, CLIP_AUDIO_MODES, WATERMARK_POSITIONS):
        assert all(k == k.lower() and " " not in k for k in table)


def test_auto_codecs_follow_the_format_and_bad_pairs_name_the_valid_ones():
    assert ExportSettings(format="webm").resolved() == ("webm", "vp9", "opus")
    assert ExportSettings(format="mov", video_codec="prores").resolved() == ("mov", "prores", "aac")
    with pytest.raises(InvalidRequestError) as err:
        ExportSettings(format="webm", video_codec="h264").resolved()
    assert "allowed: vp9, auto" in str(err.value) and err.value.exit_code == 2
    with pytest.raises(InvalidRequestError, match="allowed: aac, mp3, auto"):
        ExportSettings(format="mov", audio_codec="opus").resolved()
    with pytest.raises(InvalidRequestError, match="needs a bitrate"):
        ExportSettings(quality="custom").resolved()
    with pytest.raises(InvalidRequestError, match="ProRes"):
        ExportSettings(format="mov", video_codec="prores", quality="custom", bitrate_kbps=5000).resolved()


def test_unknown_ids_are_refused_with_the_allowed_values():
    with pytest.raises(ValueError, match="allowed: mp4, mov, avi, webm"):
        ExportSettings(format="mkv")
    with pytest.raises(ValueError, match="fade"):
        TransitionSpec(kind="spin")
    with pytest.raises(ValueError, match="must be after its start"):
        TextOverlay(text="x", start=3, end=2)
    assert ExportSettings(resolution="4K").resolution == "2160p"
    assert ExportSettings(resolution="1280x720").resolution == "1280x720"
    assert parse_bitrate("8M") == 8000 and parse_bitrate("4500k") == 4500
    with pytest.raises(InvalidRequestError):
        parse_bitrate("fast")


# --- escaping: a model of FFmpeg's av_get_token, applied at graph level and then at option level -------------------
def _av_get_token(buf: str, term: str) -> tuple[str, str]:
    """Port of libavutil av_get_token: (token, rest)."""
    i = 0
    while i < len(buf) and buf[i] in " \n\t\r":
        i += 1
    out, end = [], 0
    while i < len(buf) and buf[i] not in term:
        c = buf[i]
        i += 1
        if c == "\\" and i < len(buf):
            out.append(buf[i])
            i += 1
            end = len(out)
        elif c == "'":
            while i < len(buf) and buf[i] != "'":
                out.append(buf[i])
                i += 1
            if i < len(buf):
                i += 1
                end = len(out)
        else:
            out.append(c)
    while len(out) > end and out[-1] in " \n\t\r":
        out.pop()
    return "".join(out), buf[i:]


def _parse_filter_options(filter_text: str) -> dict[str, str]:
    name, _, args = filter_text.partition("=")
    graph_args, rest = _av_get_token(args, "[],;")
    assert rest == ""
    opts = {}
    while graph_args:
        key, graph_args = _av_get_token(graph_args, "=:")
        assert graph_args.startswith("=")
        value, graph_args = _av_get_token(graph_args[1:], ":")
        opts[key] = value
        graph_args = graph_args[1:]
    return opts


@pytest.mark.parametrize("text", ["It's 50% off: a,b [c]; \\ end", "%{pts} %{localtime:%H}", "'''", "\\\\'\\",
                                  " leading and trailing ", "semi;colon,comma[bracket]", "Привет 你好 ",
                                  "line\nbreak", "a=b:c=d", "C:\\Users\\me\\lut's.cube"])
def test_literal_values_survive_both_filtergraph_parsers(text):
    opts = _parse_filter_options(f"drawtext=text={literal(text)}:x={literal('(w-tw)/2')}")
    assert opts == {"text": text, "x": "(w-tw)/2"}


def test_windows_paths_use_slashes_and_an_escaped_drive_colon():
    assert path_value("C:\\Users\\me\\grade.cube") == "'C\\:/Users/me/grade.cube'"


# --- timeline ----------------------------------------------------------------------------------------------------
def _info(name: str, w=1280, h=720, fps=24.0, duration=5.0, audio=True) -> MediaInfo:
    return MediaInfo(path=Path(f"/proj/clips/{name}"), duration=duration, width=w, height=h, fps=fps,
                     vcodec="h264", pix_fmt="yuv420p", has_video=True, has_audio=audio, acodec="aac" if audio else None,
                     sample_rate=48000 if audio else None)


def test_timeline_offsets_and_segments_cover_every_frame_once():
    clips = [_info(f"c{i}.mp4") for i in range(4)]
    trans = [TransitionSpec(kind="fade", duration=0.5), TransitionSpec(kind="none"),
             TransitionSpec(kind="wipe", duration=1.0)]
    tl = plan_timeline(ExportSettings(), clips, trans)
    assert tl.starts == [0, 108, 228, 324] and tl.total_frames == 480 - 12 - 24
    covered = []
    for seg in tl.segments():
        covered += range(seg.start, seg.start + seg.frames)
    assert covered == list(range(tl.total_frames))
    assert [c.xfade for c in tl.cuts] == ["fade", "none", "wipeleft"]


def test_a_transition_longer_than_its_scene_is_refused_naming_the_scene():
    clips = [_info("a.mp4"), _info("b.mp4", duration=0.8), _info("c.mp4")]
    t = TransitionSpec(kind="fade", duration=0.5)
    with pytest.raises(InvalidRequestError, match="scene 2 lasts 0.79 s"):
        plan_timeline(ExportSettings(), clips, [t, t])


def test_output_size_keeps_the_first_clips_shape():
    assert target_size("source", _info("a", 1279, 719)) == (1280, 720)
    assert target_size("1080p", _info("a", 720, 1280)) == (1080, 1920)
    assert target_size("720p", _info("a", 1920, 1080)) == (1280, 720)
    assert target_size("640x360", _info("a")) == (640, 360)


# --- goldens -----------------------------------------------------------------------------------------------------
def _golden(name: str, cmds: list[fc.FFmpegCommand]) -> None:
    text = ""
    for cmd in cmds:
        text += "$ " + " ".join(cmd.args) + "\n"
        if cmd.graph:
            text += "--- graph ---\n" + cmd.graph
        text += "\n"
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"builder output changed; review and UPDATE_GOLDEN=1 ({path})"


def _mixed_clips() -> list[MediaInfo]:
    return [_info("a.mp4", 1920, 1080, 30, 4.0), _info("b.webm", 1280, 720, 24, 3.0),
            _info("portrait.mp4", 720, 1280, 25, 3.0, audio=False), _info("odd.mp4", 1279, 719, 24, 2.5)]


def test_golden_plain_fades_mp4():
    s = ExportSettings(transition=TransitionSpec(kind="fade", duration=0.5))
    clips = _mixed_clips()
    tl = plan_timeline(s, clips, [s.transition] * 3)
    w = Path("/proj/exports/.cache/work")
    fx = fc.EffectInputs()
    _golden("plain_fades_mp4", [
        fc.build_timeline_pass("ffmpeg", 9, s, clips, tl, fx, "h264", "mp4", w / "seg%05d.mp4", w / "v.txt",
                               [seg.start for seg in tl.segments()[1:]]),
        fc.build_audio_pass("ffmpeg", 9, s, clips, tl, fx, "aac", w / "a.txt", w / "audio.mka",
                            stem_out=w / "stem.wav"),
        fc.build_join("ffmpeg", w / "join.txt", w / "audio.mka", Path("/proj/exports/My.mp4"), "mp4", "h264",
                      tl.duration, fps=tl.fps)])


def test_golden_everything_webm_with_nasty_text():
    s = ExportSettings(format="webm", quality="high", resolution="720p", fps=25,
                       transition=TransitionSpec(kind="dissolve", duration=0.4), music_path="references/m.mp3",
                       music_volume=0.5, music_fade_in=1, music_fade_out=2, clip_audio="duck",
                       lut_path="references/grade.cube", watermark_path="references/logo.png",
                       watermark_position="top-left", texts=[
                           TextOverlay(text="It's 50% off: a,b [c]; \\ %{pts}", start=0.5, end=2.5),
                           TextOverlay(text="Конец", start=9, end=11, position="center", color="#ffcc00", box=False)])
    clips = _mixed_clips()
    tl = plan_timeline(s, clips, [s.transition] * 3)
    w = Path("/proj/exports/.cache/work")
    fx = fc.EffectInputs(fontfile="/fonts/DejaVu Sans.ttf", lut=Path("/proj/references/gra'de:1.cube"),
                         watermark=Path("/proj/references/logo.png"), watermark_size=(200, 80),
                         music=MediaInfo(path=Path("/proj/references/m.mp3"), duration=30.0, has_audio=True))
    window = tl.segments()[3]
    assert window.kind == "window"
    _golden("everything_webm", [
        fc.build_timeline_pass("ffmpeg", 9, s, clips, tl, fx, "vp9", "webm", w / "seg%05d.mp4", w / "v.txt",
                               [seg.start for seg in tl.segments()[1:]]),
        fc.build_segment_pass("ffmpeg", 9, s, clips, tl, window, fx, "vp9", "webm", w / "one.mp4", w / "s.txt"),
        fc.build_audio_pass("ffmpeg", 9, s, clips, tl, fx, "opus", w / "a.txt", w / "audio.mka",
                            stem_in=w / "stem.wav")])


def test_golden_prores_mov_hard_cuts_on_old_ffmpeg():
    s = ExportSettings(format="mov", video_codec="prores", quality="high", clip_audio="mute")
    clips = [_info("a.mp4"), _info("b.mp4")]
    tl = plan_timeline(s, clips, [s.transition])
    w = Path("/proj/exports/.cache/work")
    cmd = fc.build_timeline_pass("ffmpeg", 5, s, clips, tl, fc.EffectInputs(), "prores", "mov",
                                 w / "seg%05d.mov", w / "v.txt", [seg.start for seg in tl.segments()[1:]])
    assert "-filter_complex_script" in cmd.args  # FFmpeg < 7 has no -/filter_complex
    assert not fc.has_audio_output(s, clips, None)
    _golden("prores_mov_cuts", [cmd])


def test_h265_bitrate_mode_and_codec_tags():
    args = fc.video_encoder_args(ExportSettings(quality="custom", bitrate_kbps=8000), "h265", "mp4")
    assert args[args.index("-b:v") + 1] == "8000k" and "-crf" not in args
    assert args[args.index("-tag:v") + 1] == "hvc1"
    avi = fc.build_join("ffmpeg", Path("l.txt"), None, Path("o.avi"), "avi", "h264", 3.0, fps=Fraction(24)).args
    assert avi[avi.index("-r") + 1] == "24" and avi[avi.index("-c") + 1] == "copy"


def test_audio_pass_can_write_the_final_file_around_copied_video():
    s = ExportSettings(format="mov", video_codec="h265", music_path="m.wav")
    clips = [_info("a.mp4"), _info("b.mp4")]
    tl = plan_timeline(s, clips, [s.transition])
    fx = fc.EffectInputs(music=MediaInfo(path=Path("/m.wav"), duration=9.0, has_audio=True))
    target = fc.MuxTarget(Path("/w/join.txt"), "mov", "h265", tl.fps)
    args = fc.build_audio_pass("ffmpeg", 9, s, clips, tl, fx, "aac", Path("/w/a.txt"), Path("/out.mov"),
                               stem_in=Path("/c/stem.wav"), mux=target).args
    assert args[args.index("concat") + 4] == "/w/join.txt"
    assert args[args.index("-c:v") + 1] == "copy" and "2:v:0" in args  # stem, music, then the video list
    assert args[args.index("-tag:v") + 1] == "hvc1" and args[-3:] == ["-f", "mov", "/out.mov"]
