"""`python main.py project import SOURCE.json DIR` and `project relink DIR --search DIR`: ImageAI projects in."""
from __future__ import annotations

import argparse
from pathlib import Path

from cli.output import EXIT_OK, emit_json, say


def add_import_parsers(sub) -> None:
    imp = sub.add_parser("import", help="create a project from an ImageAI video project (project.iaproj.json)")
    imp.add_argument("source", help="the ImageAI project file, or its folder (only read, never written)")
    imp.add_argument("dir", help="the project folder to create")
    imp.add_argument("--search", action="append", default=[], metavar="DIR",
                     help="a folder to look for its images, clips and music by name (repeatable)")
    imp.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    rel = sub.add_parser("relink", help="find a project's missing files by name and copy them in")
    rel.add_argument("dir", help="the project folder")
    rel.add_argument("--search", action="append", required=True, metavar="DIR",
                     help="a folder to look in (repeatable)")
    rel.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def _check_folders(folders: list[str]) -> list[Path]:
    from core.errors import InvalidRequestError
    bad = [f for f in folders if not Path(f).expanduser().is_dir()]
    if bad:
        raise InvalidRequestError(f"{bad[0]}: no such folder", field="--search", allowed=["existing folders"])
    return [Path(f).expanduser() for f in folders]


def cmd_import(args: argparse.Namespace) -> int:
    from core.video.imageai_import import REPORT_FILE, import_imageai
    report = import_imageai(Path(args.source), Path(args.dir), _check_folders(args.search))
    if args.json:
        emit_json(report.to_dict())
        return EXIT_OK
    say(f"imported {report.scenes} scene(s) of {report.name!r} into {report.project}; "
        f"{len(report.copied)} file(s) copied, {len(report.missing)} missing")
    for a in report.missing:
        say(f"  missing: {a.role}: {a.original} (expected at {a.rel})")
    for row in report.other_images:
        say(f"  scene {row['scene']}: other images not imported: {', '.join(row['images'])}")
    for note in report.not_mapped:
        say(f"  not mapped: {note}")
    if report.missing:
        say(f"  fix later with: python main.py project relink {args.dir} --search FOLDER "
            f"(the full list is in {REPORT_FILE})")
    return EXIT_OK


def cmd_relink(args: argparse.Namespace) -> int:
    from core.video.imageai_import import relink
    out = relink(Path(args.dir), _check_folders(args.search))
    if args.json:
        emit_json(out.to_dict())
        return EXIT_OK
    for a in out.relinked:
        say(f"relinked {a.rel} <- {a.found}")
    for a in out.missing:
        say(f"still missing: {a.rel} ({a.original})")
    say(f"{len(out.relinked)} relinked, {len(out.missing)} still missing")
    return EXIT_OK
