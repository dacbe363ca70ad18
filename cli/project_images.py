"""`python main.py project images DIR [--scenes 1-5] [--provider P] [--model M] [--variants N] [--end-frames]`:
start (or end) frames for a project's scenes from an image provider. Each image becomes an image take of its scene
(saved the moment it arrives, charged into the ledger once); a scene without that frame uses the first one.
`--estimate` prices the run and spends nothing; `--choose SCENE TAKE_ID` picks another take as the frame."""
from __future__ import annotations

import argparse
from pathlib import Path

from cli.flags import all_problems, parse_scene_list, problems_of
from cli.output import EXIT_OK, ProgressPrinter, emit_json, money, print_estimate, say
from cli.runs import report_run, run_with_ctrl_c
from core.errors import InvalidRequestError

EXAMPLES = """
  python main.py project images my_film                        # every scene without a start frame
  python main.py project images my_film --scenes 1-3 --variants 3 --provider openai
  python main.py project images my_film --end-frames --estimate --json
  python main.py project images my_film --choose 2 3f9c0a1b2c3d   # use that image take as scene 2's start frame
"""


def add_images_parser(sub) -> None:
    p = sub.add_parser("images", help="start or end frames for scenes from an image provider (image takes)",
                       description=__doc__ + EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", help="the project folder")
    p.add_argument("--scenes", help="scene numbers, e.g. 1,3,5-7 (default: every scene without that frame)")
    p.add_argument("--provider", help="google, openai, stability or local-sd (default: the project's, else google)")
    p.add_argument("--model", help="model id (default: the project's, else the provider's own)")
    p.add_argument("--variants", type=int, help="images per scene, 1-10 (default: the project's, else 1)")
    p.add_argument("--end-frames", action="store_true", help="make end frames (they look at the start frame)")
    p.add_argument("--quality", help="OpenAI: low, medium, high, auto")
    p.add_argument("--seed", type=int, help="seed (variant i gets seed + i, where the model takes one)")
    p.add_argument("--choose", nargs=2, metavar=("SCENE", "TAKE_ID"),
                   help="use one of a scene's image takes as its frame (nothing is generated)")
    p.add_argument("--estimate", action="store_true", help="print the cost and spend nothing")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def cmd_images(args) -> int:
    from core.config import load_settings
    from core.render import journal
    from core.video.project_io import ProjectStore
    from providers.images import registry
    from providers.video_offers import video_models

    problems: list[InvalidRequestError] = []  # every problem at once: the flags' and the plan's
    variants = args.variants
    if variants is not None and not 1 <= variants <= 10:
        problems.append(InvalidRequestError(f"{variants} images per scene", field="--variants", allowed=["1-10"]))
        variants = None  # the plan checks the other flags meanwhile
    settings = load_settings()
    store = ProjectStore.open(Path(args.dir))
    if journal.apply(store):  # paid images an earlier run could not save come back before planning or choosing
        say("restored take(s) from the job journal")
    role = "end" if args.end_frames else "start"
    if args.choose:
        return _choose(store, args, role)
    from core.images.run import ImageQueue
    from core.images.takes import plan_images

    scenes = store.project.scenes
    if not scenes:
        problems.append(InvalidRequestError("the project has no scenes; add one with project add-scene",
                                            field="--scenes"))
        all_problems(problems)
    try:
        numbers = parse_scene_list(args.scenes, len(scenes))
    except InvalidRequestError as exc:
        problems += problems_of(exc)
        numbers = None  # the other flags are checked against every scene
    ids = [scenes[n - 1].id for n in numbers] if numbers else None
    getter = (lambda name: registry.get_image(name, settings))
    try:
        # each scene's video model is asked first: a frame that would block its render is refused, nothing spent
        plan = plan_images(store, getter, ids, role=role, provider=args.provider, model=args.model,
                           variants=variants, quality=args.quality, seed=args.seed, videos=video_models(settings))
    except InvalidRequestError as exc:
        _frame_way_out(exc, store, ids, role, args.dir)
        all_problems(problems, exc)
        raise
    all_problems(problems)
    for i in plan.items:  # the same lines as a render's plan
        for note in i.plan.adjustments:
            say(f"scene {i.index}: adjusted {note}")
        for note in i.plan.ignored:
            say(f"scene {i.index}: ignored {note}")
        for note in i.notes:
            say(note)
    rows = [{"scene": i.index, "scene_id": i.scene_id, "variants": len(i.take_ids), "model": i.plan.model,
             "size": f"{i.plan.width}x{i.plan.height}", "mode": i.plan.mode, "estimated_cost": i.cost,
             "notes": i.plan.notes() + i.notes} for i in plan.items]
    head = {"project": str(store.folder), "provider": plan.provider, "model": plan.model, "role": role}
    if args.estimate:
        return print_estimate(args.json, {**head, "estimated_cost": plan.total_cost, "scenes": rows},
                              plan.total_cost, f"estimated cost: {money(plan.total_cost)} for {plan.images} image(s) "
                                               f"in {len(plan.items)} scene(s) ({plan.provider}, {plan.model})")
    if not plan.items:
        say(f"every scene has a{'n end' if role == 'end' else ' start'} frame; choose scenes with --scenes")
        if args.json:
            emit_json({**head, "scenes": [], "total_cost": 0.0, "failed": 0})
        return EXIT_OK
    labels = {s.id: f"scene {n + 1}" for n, s in enumerate(scenes)}
    queue = ImageQueue(store, settings, provider_getter=getter, on_event=ProgressPrinter(labels))
    summary = run_with_ctrl_c(lambda: queue.run(plan), queue.cancel)  # an image already made stays a take
    out = []
    for i in plan.items:
        scene = store.project.scene(i.scene_id)
        takes = [t for t in scene.image_takes if t.id in i.take_ids]
        chosen = scene.start_image_take_id if role == "start" else scene.end_image_take_id
        out.append({"scene": i.index, "scene_id": scene.id, "frame": getattr(scene, f"{role}_frame"),
                    "chosen_take_id": chosen, "error": summary.failed.get(scene.id),
                    "takes": [{"id": t.id, "path": t.path, "seed": t.seed, "cost": t.cost} for t in takes]})
    return report_run(args.json, {**head, "scenes": out}, summary, store.project.total_cost, labels,
                      f"images: {len(summary.takes)} made for {len(summary.done)} scene(s), failed: "
                      f"{len(summary.failed)}, cancelled: {len(summary.cancelled)}; cost {money(summary.total_cost)}")


def _frame_way_out(exc: InvalidRequestError, store, ids, role: str, folder: str) -> None:
    """Frames the scenes' video models cannot take: which scenes of this run could have them, and the commands."""
    from core.images.frame_rules import FrameProblem

    blocked = [p.scene_id for p in (getattr(exc, "problems", None) or [exc]) if isinstance(p, FrameProblem)]
    if not blocked:
        return
    numbers = {s.id: n + 1 for n, s in enumerate(store.project.scenes)}
    wanted = ids if ids is not None else [s.id for s in store.project.scenes if not getattr(s, f"{role}_frame")]
    fine = [str(numbers[s]) for s in wanted if s in numbers and s not in blocked]
    flag = " --end-frames" if role == "end" else ""
    only = f"project images {folder}{flag} --scenes {','.join(fine)}" if fine else "no scene of this run"
    say(f"nothing was spent. Frames only where the model takes them: {only}; or change a scene's model: "
        f"project edit-scene {folder} {numbers[blocked[0]]} --model MODEL")


def _choose(store, args, role: str) -> int:
    from core.video.scene_edits import ChooseImageTake, EditHistory

    scenes = store.project.scenes
    try:
        number = int(args.choose[0])
    except ValueError:
        number = 0
    if not 1 <= number <= len(scenes):
        raise InvalidRequestError(f"no scene {args.choose[0]}", field="choose",
                                  allowed=[f"1-{len(scenes)}"] if scenes else ["none: the project has no scenes"])
    scene = scenes[number - 1]
    EditHistory(store.project, lock=store.lock).push(ChooseImageTake(scene.id, args.choose[1], role))
    store.save()
    frame = getattr(scene, f"{role}_frame")
    if args.json:
        emit_json({"project": str(store.folder), "scene": number, "scene_id": scene.id, "role": role,
                   "take_id": args.choose[1], "frame": frame})
    else:
        say(f"scene {number} {role} frame: {frame} (image take {args.choose[1]})")
    return EXIT_OK
