"""`python main.py project export DIR ...` and `python main.py compare A B ...`.

Export flags override the project's saved export settings and are saved with it. Progress goes to stderr (a bar on
a terminal); Ctrl-C cancels cleanly (the export runs on a worker thread; the main thread sets the cancel event).
"""
from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Callable, Optional

from pydantic import ValidationError

from cli.flags import problems_of, validation_error

from core.errors import CancelledError, InvalidRequestError, invalid_requests
from core.video.export import (AUDIO_CODECS, CLIP_AUDIO_MODES, EXPORT_RESOLUTIONS, FORMATS, TRANSITIONS,
                               VIDEO_CODECS, WATERMARK_POSITIONS, ExportSettings, TextOverlay, parse_bitrate)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _emit_json(obj) -> None:
    import json
    print(json.dumps(obj, default=str), flush=True)


def build_export_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="main.py project export",
                                description="Assemble the selected take of every scene into one video. Flags "
                                            "change the project's saved export settings.")
    p.add_argument("dir", help="project folder")
    p.add_argument("--format", help="container: " + ", ".join(FORMATS))
    p.add_argument("--codec", help="video codec: " + ", ".join(VIDEO_CODECS))
    q = p.add_mutually_exclusive_group()
    q.add_argument("--quality", help="high, medium or low")
    q.add_argument("--bitrate", help="video bitrate instead of a quality, e.g. 8M or 4500k")
    p.add_argument("--resolution", help=", ".join(EXPORT_RESOLUTIONS) + ", 4K or WIDTHxHEIGHT")
    p.add_argument("--fps", type=float, help="output frame rate (default: the first clip's)")
    p.add_argument("--music", help="background music file (copied into the project); 'none' removes it")
    p.add_argument("--music-volume", type=float, help="music gain, 1.0 = unchanged (default 0.6)")
    p.add_argument("--fade-in", type=float, help="music fade-in seconds")
    p.add_argument("--fade-out", type=float, help="music fade-out seconds")
    p.add_argument("--music-start", type=float, metavar="S",
                   help="seconds into the music file where the export's music begins (default 0)")
    p.add_argument("--music-end", metavar="S",
                   help="seconds into the music file where it stops ('none': the file's end); a loop repeats "
                        "start..end")
    p.add_argument("--clip-audio", help="the clips' own audio: " + ", ".join(CLIP_AUDIO_MODES))
    p.add_argument("--audio-codec", help="audio codec: " + ", ".join(AUDIO_CODECS))
    p.add_argument("--transition", help="between every scene: " + ", ".join(TRANSITIONS))
    p.add_argument("--transition-duration", type=float, help="transition seconds (default 0.5)")
    p.add_argument("--lut", help=".cube colour LUT (copied into the project); 'none' removes it")
    p.add_argument("--watermark", help="watermark image (copied into the project); 'none' removes it")
    p.add_argument("--watermark-position", help=", ".join(WATERMARK_POSITIONS))
    p.add_argument("--text", action="append", default=None, metavar="TEXT@START-END",
                   help="timed caption, e.g. \"Chapter 1@0-3\" (repeatable; replaces the saved captions)")
    p.add_argument("--no-text", action="store_true", help="remove the saved captions")
    p.add_argument("-o", "--output", help="output file (default: the project's exports/ folder)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object on stdout")
    return p


def parse_text(spec: str) -> TextOverlay:
    text, sep, span = spec.rpartition("@")
    start, dash, end = span.partition("-")
    try:
        if not sep or not dash or not text:
            raise ValueError
        return TextOverlay(text=text, start=float(start), end=float(end))
    except ValueError:
        raise InvalidRequestError(f"{spec!r} is not TEXT@START-END (e.g. \"Hello@0-3.5\")", field="--text") from None


def _asset_flag(store, value: Optional[str], field: str) -> Optional[str]:
    """'none' clears; a file is copied into the project (references/) so the project stays self-contained."""
    if value is None or value.lower() in ("none", ""):
        return None
    src = Path(value).expanduser()
    if not src.is_file():
        raise InvalidRequestError(f"{value}: no such file", field=field)
    if field == "--lut":
        from core.video.lut import check_lut
        check_lut(src, field)  # checked before it is copied in: a bad LUT saved would fail every export
    elif field == "--watermark":
        from core.video.media import is_image
        if not is_image(src):
            raise InvalidRequestError(f"{src.name} is not an image", field=field, allowed=["PNG", "JPEG", "WebP"])
    return store.import_asset(src, "references")


def updated_settings(store, args: argparse.Namespace) -> ExportSettings:
    """The saved settings with the typed flags applied (validated as a whole). Every bad flag is reported at once;
    a flag with a problem keeps its saved value while the others are checked."""
    data = store.project.export.model_dump()
    problems: list[InvalidRequestError] = []

    def checked(make, keep):
        try:
            return make()
        except InvalidRequestError as exc:
            problems.extend(problems_of(exc))
            return keep

    simple = {"format": "format", "codec": "video_codec", "quality": "quality", "resolution": "resolution",
              "fps": "fps", "music_volume": "music_volume", "fade_in": "music_fade_in",
              "fade_out": "music_fade_out", "clip_audio": "clip_audio", "audio_codec": "audio_codec",
              "watermark_position": "watermark_position", "music_start": "music_start"}
    for dest, field in simple.items():
        value = getattr(args, dest)
        if value is not None:
            data[field] = value
    if args.music_end is not None:
        data["music_end"] = None if args.music_end.strip().lower() in ("none", "") else args.music_end
    if args.bitrate is not None:
        try:
            bitrate = parse_bitrate(args.bitrate)
        except InvalidRequestError as exc:  # named by its flag, as the other problems are
            problems.append(InvalidRequestError(str(exc).removeprefix("bitrate: "), field="--bitrate"))
            bitrate = None
        if bitrate is not None:
            data["quality"], data["bitrate_kbps"] = "custom", bitrate
    elif args.quality is not None:
        data["bitrate_kbps"] = None
    for flag, field in (("music", "music_path"), ("lut", "lut_path"), ("watermark", "watermark_path")):
        if getattr(args, flag) is not None:
            data[field] = checked(lambda: _asset_flag(store, getattr(args, flag), "--" + flag), data[field])
    if args.transition is not None or args.transition_duration is not None:
        t = dict(data["transition"])
        if args.transition is not None:
            t["kind"] = args.transition
        if args.transition_duration is not None:
            t["duration"] = args.transition_duration
        data["transition"] = t
        data["boundary_transitions"] = {}  # a project-wide choice on the command line replaces per-scene ones
    if args.no_text:
        data["texts"] = []
    if args.text:
        texts = [checked(lambda: parse_text(s).model_dump(), None) for s in args.text]
        data["texts"] = [t for t in texts if t is not None]
    if args.output is not None:
        out = Path(args.output).expanduser().resolve()
        if out.is_relative_to(store.folder):  # saved; a destination elsewhere is used for this run only
            data["output_path"] = store.relative(out)
    try:
        settings = ExportSettings.model_validate(data)
    except ValidationError as exc:  # every problem, each named by the flag the user typed
        flag_of = {field: dest for dest, field in simple.items()}
        problems += problems_of(validation_error(exc, lambda loc: "--" + flag_of.get(loc, loc).replace("_", "-")))
        raise invalid_requests(problems) from None
    if problems:
        raise invalid_requests(problems)
    settings.resolved()  # refuse a format/codec pair before anything is saved
    return settings


class _Bar:
    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = -1

    def __call__(self, p) -> None:
        pct = int(p.fraction * 100)
        eta = f" ETA {p.eta_s:.0f} s" if p.eta_s is not None and p.fraction < 1 else ""
        if self.tty:
            bar = "#" * (pct // 4)
            print(f"\r[{bar:<25}] {pct:3d}% {p.stage:<6}{eta}   ", end="", file=sys.stderr, flush=True)
        elif pct // 10 != self.last:
            self.last = pct // 10
            _say(f"{pct}% {p.stage}{eta}")

    def close(self) -> None:
        if self.tty:
            print(file=sys.stderr, flush=True)


def run_cancellable(job: Callable[[threading.Event], object]):
    """Run job(cancel) on a worker thread; Ctrl-C in the main thread sets `cancel` and waits for a clean stop."""
    cancel = threading.Event()
    done = threading.Event()  # not Thread.join: an interrupted join can make is_alive() lie
    box: dict = {}

    def work() -> None:
        try:
            box["result"] = job(cancel)
        except BaseException as exc:  # handed to the main thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name="export", daemon=True).start()
    while not done.is_set():
        try:
            done.wait(0.2)
        except KeyboardInterrupt:
            cancel.set()
            _say("cancelling...")
    if "error" in box:
        raise box["error"]
    return box["result"]


def project_export_main(argv: list[str]) -> int:
    _freeze_imports()
    from core.video.exporter import export_project
    from core.video.project_io import ProjectStore
    args = build_export_parser().parse_args(argv)
    bar = _Bar() if not args.json else None
    try:
        store = ProjectStore.open(Path(args.dir))
        settings = updated_settings(store, args)
        try:
            out = Path(args.output).expanduser().resolve() if args.output else None
            result = run_cancellable(lambda cancel: export_project(store, settings, progress=bar or _Bar(),
                                                                   cancel=cancel, output=out))
        except InvalidRequestError:
            raise  # settings the export refused are not saved
        except BaseException:
            _save(store, settings)
            raise
        finally:
            if bar:
                bar.close()
        _save(store, settings)
    except CancelledError as exc:
        raise CancelledError(f"{exc}; the previous export was left as it was") from None
    # other typed errors reach cli.output.guarded: a message on stderr, the exit code, and with --json one object
    if args.json:
        _emit_json(result.model_dump(mode="json"))
    else:
        _say(f"exported {result.output_path} ({result.duration:.2f} s, {result.width}x{result.height} "
             f"{result.fps:g} fps, {result.size_bytes / 1e6:.1f} MB) in {result.elapsed_s:.1f} s")
        for line in result.reused:
            _say(f"  reused: {line}")
    return 0


def _freeze_imports() -> None:
    """Move what the imports built (modules, pydantic's schemas) out of the garbage collector's reach: they live
    until exit anyway, and walking them in the collections during the run and at interpreter exit cost ~20 ms of
    a ~0.1 s CLI overhead. Once per process (a test session calling this twice freezes once)."""
    import gc
    if gc.get_freeze_count() == 0:
        gc.freeze()


def _save(store, settings: ExportSettings) -> None:
    store.project.export = settings
    store.save()


def compare_main(argv: list[str]) -> int:
    from core.video.compare import compare_clips, format_table
    p = argparse.ArgumentParser(prog="main.py compare", description="Put two clips side by side with labels and "
                                "print their resolution, fps, duration, bitrate (and render time and cost when "
                                "they are takes of a project).")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--labels", nargs=2, metavar=("LABEL_A", "LABEL_B"))
    p.add_argument("-o", "--output", default="side_by_side.mp4")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    from cli.compare import refuse_non_videos
    refuse_non_videos([("A", args.a), ("B", args.b)])
    # a typed error reaches cli.output.guarded (stderr, exit code, and with --json one object)
    rows = run_cancellable(lambda cancel: compare_clips(Path(args.a), Path(args.b), Path(args.output),
                                                        args.labels, cancel=cancel))
    if args.json:
        _emit_json({"output": str(Path(args.output).resolve()), "clips": [r.model_dump() for r in rows]})
    else:
        print(format_table(rows))
        _say(f"wrote {args.output}")
    return 0
