"""`python main.py project new|add-scene|render|info|export DIR ...`: headless project work."""
from __future__ import annotations

import argparse
from pathlib import Path

from cli import scene_edit
from cli.scene_edit import scene_number
from cli.flags import (add_render_flags, all_problems, checked_settings, parse_keyframe, parse_scene_list,
                       parse_with_sub_usage, settings_from_args)
from cli.output import EXIT_BAD_INPUT, EXIT_OK, ProgressPrinter, amount, emit_json, money, say
from cli.runs import report_run, run_with_ctrl_c
from core.errors import InvalidRequestError, invalid_requests
from core.video.chains import chain_text
from core.video.project import Keyframe, ReferenceImage, Scene, Take, now

DEFAULT_SCENE_SECONDS = 5.0
from core.video.project_io import ProjectStore
from core.video.render_settings import RenderSettings


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="main.py project", description="Create, fill, render and export projects.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    new = sub.add_parser("new", help="create a project folder; render flags set its defaults")
    new.add_argument("dir", help="the project folder to create")
    new.add_argument("--name", help="the project's name (default: the folder's name)")
    new.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_render_flags(new)

    add = sub.add_parser("add-scene", help="append a scene (assets are copied into the project)")
    add.add_argument("dir", help="the project folder")
    add.add_argument("-p", "--prompt", default="", help="what the scene shows")
    add.add_argument("--title", default="", help="the scene's title (a title card in the animatic)")
    add.add_argument("--duration", type=float, help="the scene's length in the edit, in seconds (default: 5, or "
                                                    "the --clip's length)")
    add.add_argument("--image", help="start frame")
    add.add_argument("--end-image", help="last frame")
    add.add_argument("--keyframe", action="append", default=[], metavar="SECONDS:PATH",
                     help="an image the clip passes through at a time (repeatable)")
    add.add_argument("--reference", action="append", default=[], metavar="PATH",
                     help="a reference image for this scene (repeatable, at most 3)")
    add.add_argument("--no-global-references", action="store_true", help="use only this scene's references")
    add.add_argument("--source-video", help="video to transform (video-to-video)")
    add.add_argument("--extend", help="video to extend")
    scene_edit.add_extend_scene_flag(add)
    add.add_argument("--clip", help="an existing video file to use as this scene's clip (no render)")
    add.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_render_flags(add, with_duration=False)

    ref = sub.add_parser("add-reference", help="add a project-wide reference image (at most 3)")
    ref.add_argument("dir", help="the project folder")
    ref.add_argument("path", help="the image (PNG, JPEG or WebP)")

    unref = sub.add_parser("remove-reference", help="remove a project-wide reference image")
    unref.add_argument("dir", help="the project folder")
    unref.add_argument("which", help="its number (1-3, as `project info` lists them) or its file name")

    render = sub.add_parser("render", help="render the scenes (resumes submitted jobs first)")
    render.add_argument("dir", help="the project folder")
    render.add_argument("--scenes", help="scene numbers, e.g. 1,3,5-7 (default: all)")
    render.add_argument("--force", action="store_true", help="render again even if done with the same settings")
    render.add_argument("--pay-again", action="store_true",
                        help="render (and pay) again scenes whose paid result the service no longer has")
    render.add_argument("--estimate", action="store_true", help="print the cost and spend nothing")
    render.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_render_flags(render)

    info = sub.add_parser("info", help="show the project's scenes, takes and costs")
    info.add_argument("dir", help="the project folder")
    info.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    sub.add_parser("export", help="assemble the final video (python main.py project export --help)",
                   add_help=False)

    pick = sub.add_parser("select-take", help="use one of a scene's done takes (e.g. after compare)")
    pick.add_argument("dir", help="the project folder")
    pick.add_argument("scene", type=int, help="the scene's number")
    pick.add_argument("take_id", help="the take's id (`project render --json` and `compare` print take ids)")
    pick.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    scene_edit.add_parsers(sub)
    from cli.project_import import add_import_parsers
    add_import_parsers(sub)  # import, relink
    from cli.project_images import add_images_parser
    add_images_parser(sub)
    return p


def project_main(argv: list[str]) -> int:
    if argv and argv[0] == "export":
        from cli.export import project_export_main
        return project_export_main(argv[1:])
    args = parse_with_sub_usage(build_parser(), argv)
    return {"new": cmd_new, "add-scene": cmd_add_scene, "add-reference": cmd_add_reference,
            "remove-reference": cmd_remove_reference, "render": cmd_render, "info": cmd_info,
            "select-take": cmd_select_take, **scene_edit.COMMANDS, "import": _cmd_import,
            "relink": _cmd_relink, "images": _cmd_images}[args.command](args)


def _cmd_images(args) -> int:
    from cli.project_images import cmd_images
    return cmd_images(args)


def _cmd_import(args) -> int:
    from cli.project_import import cmd_import
    return cmd_import(args)


def _cmd_relink(args) -> int:
    from cli.project_import import cmd_relink
    return cmd_relink(args)


def cmd_new(args) -> int:
    defaults = settings_from_args(args)
    store = ProjectStore.create(Path(args.dir), args.name)
    store.project.render = defaults
    store.save()
    if args.json:
        emit_json({"project": str(store.folder), "name": store.project.name,
                   "render": defaults.model_dump(mode="json")})
    else:
        say(f"created project {store.project.name!r} in {store.folder}")
    return EXIT_OK


def _import(store: ProjectStore, path: str | None, kind: str, field: str) -> str | None:
    if not path:
        return None
    try:
        return store.import_asset(Path(path), kind)
    except FileNotFoundError as exc:
        raise InvalidRequestError(str(exc), field=field) from None


def cmd_add_scene(args) -> int:
    store = ProjectStore.open(Path(args.dir))
    problems: list[InvalidRequestError] = []
    if not args.prompt and not args.clip and not args.image and not args.title:
        problems.append(InvalidRequestError("a scene needs a prompt (-p), a title, a start image or a clip",
                                            field="prompt"))
    if args.duration is not None and not 0 < args.duration <= 600:
        problems.append(InvalidRequestError(f"{args.duration:g} s is not a scene length", field="--duration",
                                            allowed=["more than 0 and at most 600 s"]))
    if len(args.reference) > 3:
        problems.append(InvalidRequestError(f"{len(args.reference)} reference images given", field="--reference",
                                            allowed=["at most 3"]))
    images = [("--image", args.image), ("--end-image", args.end_image)] + [("--reference", r) for r in args.reference]
    keyframes = []
    for text in args.keyframe:
        try:
            keyframes.append(parse_keyframe(text))
        except InvalidRequestError as exc:
            problems.append(exc)
    images += [("--keyframe", str(p)) for _, p in keyframes]
    problems += [p for field, path in images if path and (p := check_image_file(Path(path), field))]
    clip_info = None
    for field, path in (("--source-video", args.source_video), ("--extend", args.extend), ("--clip", args.clip)):
        if path:
            info, problem = check_video_file(Path(path).expanduser(), field)
            problems += [problem] if problem else []
            clip_info = info if field == "--clip" else clip_info
    if args.source_video and args.extend:
        problems.append(InvalidRequestError("--source-video and --extend given together: a scene has one video "
                                            "input", field="--source-video", allowed=["one of them"]))
    duration = args.duration or (clip_info.duration if clip_info else
                                 store.project.render.duration or DEFAULT_SCENE_SECONDS)
    late = [s for s, _ in keyframes if s > duration]
    if late:
        problems.append(InvalidRequestError(f"a keyframe at {max(late):g} s is past the end of the {duration:g} s "
                                            f"scene", field="--keyframe", allowed=[f"0-{duration:g} s"]))
    try:
        own = settings_from_args(args)
    except InvalidRequestError as exc:
        problems += getattr(exc, "problems", None) or [exc]
        own = RenderSettings()
    parent = None
    if args.extend_scene is not None:
        parent = scene_edit.extend_scene_target(store, args.extend_scene, len(store.project.scenes) + 1, problems)
        given = [flag for flag, value in (("--extend", args.extend), ("--source-video", args.source_video)) if value]
        if parent and given:
            problems.append(InvalidRequestError(f"--extend-scene and {' and '.join(given)} given together",
                                                field="--extend-scene", allowed=["one video input"]))
    if problems:
        raise invalid_requests(problems)
    scene = Scene(prompt=args.prompt, title=args.title, duration=duration, render=own.updated(duration=None),
                  use_global_references=not args.no_global_references, extend_scene_id=parent)
    scene.start_frame = _import(store, args.image, "images", "image")
    scene.end_frame = _import(store, args.end_image, "images", "end-image")
    scene.keyframes = [Keyframe(seconds=s, image=_import(store, str(p), "images", "keyframe")) for s, p in keyframes]
    scene.reference_images = [ReferenceImage(path=_import(store, r, "references", "reference"))
                              for r in args.reference]
    scene.source_video = _import(store, args.source_video, "clips", "source-video")
    scene.extend_video = _import(store, args.extend, "clips", "extend")
    if args.clip:
        take = Take(provider="import", status="done", clip_path=_import(store, args.clip, "clips", "clip"),
                    finished_at=now())
        scene.takes.append(take)
        scene.selected_take_id = take.id
    store.project.scenes.append(scene)
    store.save()
    number = len(store.project.scenes)
    if args.json:
        emit_json({"project": str(store.folder), "scene": number, "scene_id": scene.id, "duration": scene.duration,
                   "take_id": scene.selected_take_id, "extends_scene": scene_number(store, parent)})
    else:
        chain = chain_text(store.project, scene)
        say(f"added scene {number} ({scene.duration:g} s{'; ' + chain if chain else ''})")
    from cli.scene_length import length_warnings
    for warning in length_warnings(store, scene):
        say(f"warning: scene {number}: {warning}")
    return EXIT_OK


def check_image_file(path: Path, field: str) -> InvalidRequestError | None:
    """None when `path` is an image the renders can use (decoded in full: a decompression bomb is refused)."""
    from core.video.media import is_image
    if not path.is_file():
        return InvalidRequestError(f"{path}: no such file", field=field)
    if not is_image(path):
        return InvalidRequestError(f"{path.name} is not an image this app can use", field=field,
                                   allowed=["PNG", "JPEG", "WebP"])
    return None


def check_video_file(path: Path, field: str):
    """(MediaInfo, None) when `path` is a video a render can use, else (None, the refusal): a still image probes
    as a one-frame video, and a scene given one would pay a service for nothing."""
    from core.video.media import VIDEO_KINDS, video_input
    info, why = video_input(path)
    return info, (InvalidRequestError(why, field=field, allowed=VIDEO_KINDS) if why else None)


def cmd_add_reference(args) -> int:
    store = ProjectStore.open(Path(args.dir))
    if len(store.project.reference_images) >= 3:
        raise InvalidRequestError("the project already has 3 reference images; remove one with "
                                  "project remove-reference", field="reference", allowed=["at most 3"])
    problem = check_image_file(Path(args.path), "reference")
    if problem:
        raise problem
    rel = _import(store, args.path, "references", "reference")
    store.project.reference_images.append(ReferenceImage(path=rel))
    store.save()
    say(f"added reference {len(store.project.reference_images)}: {rel}")
    return EXIT_OK


def cmd_remove_reference(args) -> int:
    store = ProjectStore.open(Path(args.dir))
    refs = store.project.reference_images
    names = [Path(r.path).name for r in refs]
    if args.which.isdigit() and 1 <= int(args.which) <= len(refs):
        index = int(args.which) - 1
    elif args.which in names:
        index = names.index(args.which)
    else:
        raise InvalidRequestError(f"no reference {args.which!r}", field="reference",
                                  allowed=[f"{i + 1} ({n})" for i, n in enumerate(names)] or ["none: no references"])
    removed = refs.pop(index)
    store.save()
    say(f"removed reference {removed.path} (the file stays in references/)")
    return EXIT_OK


def cmd_render(args) -> int:
    from core.config import load_settings
    from core.render.queue import RenderQueue
    from providers import registry

    run, problems = checked_settings(args)  # reported with the plan's problems, each once
    store = ProjectStore.open(Path(args.dir))
    with store.render_lock(on_wait=lambda holder: say("waiting for the other render of this project to end")):
        scenes = store.project.scenes  # as on disk once the lock is ours
        if not scenes:
            all_problems(problems, InvalidRequestError("the project has no scenes; add one with project add-scene",
                                                       field="--scenes"))
        try:
            numbers = parse_scene_list(args.scenes, len(scenes))
        except InvalidRequestError as exc:
            all_problems(problems, exc)
        scene_ids = [scenes[n - 1].id for n in numbers] if numbers else None
        labels = {s.id: f"scene {i + 1}" for i, s in enumerate(scenes)}
        queue = RenderQueue(store, load_settings(), provider_getter=registry.get, on_event=ProgressPrinter(labels))
        restored = queue.apply_journal()  # job ids an earlier run could not save: followed, never paid again
        if restored:
            say(f"restored {restored} paid job id(s) that an earlier render could not save into project.json")
        try:
            plan = queue.plan(scene_ids, force=args.force, run=run, pay_again=args.pay_again)
        except InvalidRequestError as exc:
            all_problems(problems, exc)
            raise
        all_problems(problems)
        items = [plan_item_row(i) for i in plan.items]
        for i in plan.to_render:
            if i.after_scene_id:
                say(f"scene {i.index}: waits for scene {scene_number(store, i.after_scene_id)}'s new clip (priced "
                    f"against the length and size its plan makes)")
            for note in i.adjustments:
                say(f"scene {i.index}: adjusted {note}")
            for note in i.ignored:
                say(f"scene {i.index}: ignored {note}")
        if args.estimate:
            if args.json:
                emit_json({"project": str(store.folder), "estimated_cost": plan.total_cost, "scenes": items})
            else:
                print(amount(plan.total_cost))
                say(f"estimated cost: {money(plan.total_cost)} for {len(plan.to_render)} scene(s)")
            return EXIT_OK
        # Ctrl-C cancels the running jobs at their services, marks the takes cancelled and saves, then stops
        summary = run_with_ctrl_c(lambda: queue.run(plan=plan), queue.cancel)
    rows = []
    for i, scene in enumerate(store.project.scenes):
        if scene_ids is not None and scene.id not in scene_ids:
            continue
        take = scene.latest_take()
        selected = scene.selected_take
        rows.append({"scene": i + 1, "scene_id": scene.id, "take_id": take.id if take else None,
                     "status": take.status if take else None, "job_id": take.remote_job_id if take else None,
                     "clip": str(store.resolve(selected.clip_path)) if selected and selected.clip_path else None,
                     "duration": scene.duration, "rendered_seconds": take.rendered_seconds if take else None,
                     "cost": take.cost if take else 0.0, "notes": take.notes if take else [],
                     "error": take.error if take and (take.status == "failed" or scene.id in summary.failed)
                     else None,
                     "skipped": scene.id in summary.skipped})
    return report_run(args.json, {"project": str(store.folder), "scenes": rows}, summary, store.project.total_cost,
                      labels, f"done: {len(summary.done)}, skipped: {len(summary.skipped)}, failed: "
                      f"{len(summary.failed)}, cancelled: {len(summary.cancelled)}; cost {money(summary.total_cost)}")


def plan_item_row(i) -> dict:
    return {"scene": i.index, "scene_id": i.scene_id, "provider": i.provider, "model": i.model,
            "deployment": i.deployment, "estimated_cost": i.estimated_cost, "render_seconds": i.render_seconds,
            "cut_seconds": i.cut_seconds, "adjustments": i.adjustments, "ignored": i.ignored,
            "skip": i.skip_reason, "resume": bool(i.resume_take_id), "waits_for_scene_id": i.after_scene_id}


def cmd_info(args) -> int:
    from core.render import journal
    store = ProjectStore.open(Path(args.dir))
    if journal.apply(store):  # job ids a failed save kept in the journal belong in the report
        say("restored take(s) from the job journal")
    p = store.project
    missing = store.missing_assets()
    scenes = []
    for i, s in enumerate(p.scenes):
        t = s.selected_take or s.latest_take()
        scenes.append({"scene": i + 1, "scene_id": s.id, "title": s.title, "prompt": s.prompt,
                       "duration": s.duration, "takes": len(s.takes), "status": t.status if t else "not rendered",
                       "provider": t.provider if t else p.scene_settings(s).settings.provider,
                       "clip": t.clip_path if t and t.status == "done" else None, "cost": t.cost if t else 0.0,
                       "extends_scene": scene_number(store, s.extend_scene_id), "chain": chain_text(p, s),
                       "error": t.error if t and t.status == "failed" else None})
    if args.json:
        emit_json({"project": str(store.folder), "name": p.name, "schema_version": p.schema_version,
                   "render": p.render.model_dump(mode="json"), "scenes": scenes, "total_cost": p.total_cost,
                   "missing_assets": missing})
        return EXIT_OK
    say(f"{p.name}: {len(p.scenes)} scene(s), {render_words(p.render)}; spent {money(p.total_cost)}")
    for row in scenes:
        chain = f"  ({row['chain']})" if row["chain"] else ""
        failed = f": {row['error']}" if row["error"] else ""
        shown = " ".join(part for part in (f"\"{row['title']}\"" if row["title"] else "", row["prompt"][:60]) if part)
        say(f"  {row['scene']:3d}. [{row['status']}{failed}] {row['duration']:g} s" + (f"  {shown}" if shown else "")
            + chain)
    for rel in missing:
        say(f"  missing asset: {rel}")
    return EXIT_OK if not missing else EXIT_BAD_INPUT


def render_words(r: RenderSettings) -> str:
    """'ltx-video ltx-2-pro 1080p 24 fps': the project's render defaults, only those it has."""
    return " ".join(part for part in (r.provider or "animatic", r.model or "(default model)", r.resolution,
                                      f"{r.fps} fps" if r.fps else "") if part)


def cmd_select_take(args) -> int:
    """The scene's selected take (what the export uses): one of its done takes whose clip is on disk."""
    store = ProjectStore.open(Path(args.dir))
    scenes = store.project.scenes
    if not 1 <= args.scene <= len(scenes):
        raise InvalidRequestError(f"no scene {args.scene}", field="scene",
                                  allowed=[f"1-{len(scenes)}"] if scenes else ["none: the project has no scenes"])
    scene = scenes[args.scene - 1]
    usable = [t for t in scene.takes if t.status == "done" and t.clip_path and store.resolve(t.clip_path).is_file()]
    take = next((t for t in usable if t.id == args.take_id), None)
    if take is None:
        known = next((t for t in scene.takes if t.id == args.take_id), None)
        why = f"take {args.take_id} is {known.status}" if known else f"scene {args.scene} has no take {args.take_id}"
        raise InvalidRequestError(f"{why}; a selected take must be done with its clip on disk", field="take_id",
                                  allowed=[f"{t.id} ({t.provider} {t.model or ''})".replace(" )", ")")
                                           for t in usable] or ["none: render the scene first"])
    scene.selected_take_id = take.id
    store.save()  # merged with what a running render saves meanwhile (no need to wait for it)
    if args.json:
        emit_json({"project": str(store.folder), "scene": args.scene, "scene_id": scene.id, "take_id": take.id,
                   "clip": str(store.resolve(take.clip_path))})
    else:
        say(f"scene {args.scene} uses take {take.id} ({take.provider} {take.model or ''}): {take.clip_path}")
    return EXIT_OK
