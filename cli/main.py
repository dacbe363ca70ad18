"""The command line. `python main.py` with arguments lands here; each command family lives in its own module and
is imported only when used, so `--help` stays fast (no torch, diffusers or PySide6)."""
from __future__ import annotations

import sys
from typing import Optional

from cli.output import guarded


def main(argv: Optional[list[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from core.logging_setup import setup_logging
    setup_logging(verbose="--verbose" in argv)
    argv = [a for a in argv if a != "--verbose"]
    command = argv[0] if argv else ""
    rest = argv[1:]
    json_mode = "--json" in argv
    if command == "project" and rest[:1] == ["export"]:
        from cli.export import project_export_main  # straight there: a re-export needs no render machinery
        return guarded(lambda: project_export_main(rest[1:]), json_mode)
    if command == "project":
        from cli.project import project_main
        return guarded(lambda: project_main(rest), json_mode)
    if command == "compare":
        from cli.compare import compare_main
        return guarded(lambda: compare_main(rest), json_mode)
    if command == "local":
        from cli.local import local_main
        return guarded(lambda: local_main(rest), json_mode)
    if command == "image":
        from cli.image import image_main
        return guarded(lambda: image_main(rest), json_mode)
    if command == "lora":
        from cli.local import lora_main
        return guarded(lambda: lora_main(rest), json_mode)
    from cli.clip import clip_main
    return guarded(lambda: clip_main(argv), json_mode)
