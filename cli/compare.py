"""`python main.py compare`: two forms.

- `compare --project DIR --scene N --providers veo:MODEL,ltx-video:MODEL [--yes] [-o FILE] [--json]` renders the
  scene with both providers as two takes of that scene (core/video/compare_takes.py), both costs shown and
  confirmed first, then writes the side-by-side video and prints a facts table per take;
- `compare A.mp4 B.mp4 [-o FILE]` puts two existing clips side by side (cli/export.py).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.flags import all_problems
from cli.output import EXIT_FAILED, EXIT_OK, ProgressPrinter, amount, emit_json, money, say
from cli.runs import run_with_ctrl_c
from core.errors import InvalidRequestError


def compare_main(argv: list[str]) -> int:
    if not any(a == "--project" or a.startswith("--project=") for a in argv):
        from cli.export import compare_main as clips_main
        return clips_main(argv)
    return compare_takes_main(argv)


def refuse_non_videos(inputs: list[tuple[str, str]]) -> None:
    """Every input (field, path) that is not a video this app can use, refused at once: FFmpeg reads a still image
    as a one-frame clip, which would make a side-by-side of a frame and exit 0."""
    from core.errors import invalid_requests
    from core.video.media import VIDEO_KINDS, video_input_problem
    problems = [InvalidRequestError(why, field=field, allowed=VIDEO_KINDS)
                for field, path in inputs if (why := video_input_problem(Path(path).expanduser()))]
    if problems:
        raise invalid_requests(problems)


def build_parser() -> argparse.ArgumentParser:
    from core.video.compare_takes import SPEC_HELP
    p = argparse.ArgumentParser(
        prog="main.py compare", description="Render one scene with two providers as two takes of that scene, put "
        "them side by side and print the facts of each (cost, render time, size, and sharpness, motion and "
        "flicker measured here). Keep either take with: python main.py project select-take DIR N TAKE_ID. "
        "(Two existing clips: python main.py compare A.mp4 B.mp4 -o out.mp4.)")
    p.add_argument("--project", required=True, metavar="DIR", help="the project folder")
    p.add_argument("--scene", required=True, type=int, metavar="N", help="the scene's number (as project info "
                                                                         "lists them)")
    p.add_argument("--providers", required=True, metavar="A,B", help="the two sides: " + SPEC_HELP)
    p.add_argument("--yes", action="store_true", help="confirm the cost without being asked")
    p.add_argument("--estimate", action="store_true", help="print both costs and spend nothing")
    p.add_argument("-o", "--output", help="the side-by-side video (default: the project's "
                                          "exports/compare-scene-N.mp4)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    return p


def side_row(number: int, side) -> dict:
    i = side.item
    return {"side": number, "provider": i.provider, "model": i.model, "deployment": i.deployment,
            "take_id": side.take_id, "resume": side.resumed, "estimated_cost": side.new_cost,
            "render_seconds": i.render_seconds, "cut_seconds": i.cut_seconds, "adjustments": i.adjustments,
            "ignored": i.ignored}


def show_plan(sides) -> None:
    for n, side in enumerate(sides, 1):
        i = side.item
        what = " ".join(p for p in (i.provider, i.model, f"on {i.deployment}" if i.deployment else "") if p)
        if side.resumed:
            say(f"take {n}: {what}: follows unfinished take {side.take_id} (already paid, "
                f"{money(i.estimated_cost)} estimated)")
        else:
            length = f" for {i.render_seconds:g} s" if i.render_seconds else ""
            say(f"take {n}: {what}: {money(i.estimated_cost)}{length}")
        for note in i.adjustments:
            say(f"take {n}: adjusted {note}")
        for note in i.ignored:
            say(f"take {n}: ignored {note}")


def confirmed(total: float) -> bool:
    """Ask on a terminal; with stdin not a terminal nothing can be asked, so refuse and say what to pass."""
    if not sys.stdin.isatty():
        raise InvalidRequestError(f"rendering both takes spends {money(total)}; stdin is not a terminal, so it "
                                  "cannot be asked: pass --yes to confirm", field="--yes")
    print(f"render both takes for {money(total)}? [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def checked_specs(text: str) -> tuple[list[str], list[InvalidRequestError]]:
    """The sides as typed, a deployment no provider has left out (and named among the problems), so that the plan
    still checks each side's provider and model: every problem of both sides at once."""
    from core.video.ids import ALL_DEPLOYMENTS
    specs, problems = [], []
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        rest, _, deployment = part.partition("@")
        if deployment.strip() and deployment.strip() not in ALL_DEPLOYMENTS:
            problems.append(InvalidRequestError(f"{part!r}: no deployment {deployment.strip()!r}",
                                                field="--providers", allowed=ALL_DEPLOYMENTS))
            part = rest
        specs.append(part)
    return specs, problems


def compare_takes_main(argv: list[str]) -> int:
    from cli.export import run_cancellable
    from core.config import load_settings
    from core.video.compare_takes import TakeComparison, default_output, format_facts, parse_specs
    from core.video.project_io import ProjectStore
    from providers import registry

    args = build_parser().parse_args(argv)
    specs, problems = checked_specs(args.providers)
    store = ProjectStore.open(Path(args.project))
    with store.render_lock(on_wait=lambda holder: say("waiting for the other render of this project to end")):
        try:
            specs = parse_specs(",".join(specs))
            comparison = TakeComparison(
                store, args.scene, specs, settings=load_settings(), provider_getter=registry.get,
                events_for=lambda n, spec: ProgressPrinter({store.project.scenes[args.scene - 1].id: f"take {n}"}))
            sides = comparison.plan()
        except InvalidRequestError as exc:  # the sides' problems name the side ("foo bar: provider: ..."), not a flag
            all_problems(problems, exc, flag_words=False)
            raise
        all_problems(problems)
        show_plan(sides)
        total = comparison.new_cost
        if args.estimate:
            if args.json:
                emit_json({"project": str(store.folder), "scene": args.scene, "estimated_cost": total,
                           "takes": [side_row(n, s) for n, s in enumerate(sides, 1)]})
            else:
                print(amount(total))
                say(f"estimated cost: {money(total)} for both takes")
            return EXIT_OK
        if comparison.renders_new and not args.yes and not confirmed(total):
            say("not confirmed: nothing was rendered or spent")
            return EXIT_FAILED
        failed = run_with_ctrl_c(comparison.run, comparison.cancel)
    if failed:
        cancelled = all(m == "cancelled" for m in failed.values())
        for take_id, message in failed.items():
            say(f"take {take_id} {'was cancelled' if message == 'cancelled' else 'failed: ' + message}")
        if args.json:
            emit_json({"project": str(store.folder), "scene": args.scene, "failed": failed,
                       "takes": [r.model_dump(mode="json") for r in comparison.facts(measure=False)]})
        return 130 if cancelled else EXIT_FAILED
    output = Path(args.output).expanduser().resolve() if args.output else default_output(store, args.scene)
    result = run_cancellable(lambda cancel: comparison.result(output, cancel=cancel))
    if args.json:
        emit_json(result.model_dump(mode="json"))
        return EXIT_OK
    print(format_facts(result.takes))
    kept = result.selected_take_id
    say(f"scene {args.scene} keeps take {kept} selected; keep the other with: python main.py project select-take "
        f"{store.folder} {args.scene} TAKE_ID")
    say(f"wrote {output}")
    return EXIT_OK
