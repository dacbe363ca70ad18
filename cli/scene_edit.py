"""`project edit-scene|remove-scene|move-scene DIR ...`: the storyboard edits the GUI makes, headless.

Every change goes through core/video/scene_edits.py (the same edit objects the window pushes on its undo stack).
All input is checked before anything is copied or saved, and every problem is reported at once; takes are never
touched by an edit (a rendered take stays: its settings hash decides whether `project render` renders again).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from cli.flags import (OPTION_FLAGS, SETTING_FLAGS, add_render_flags, parse_keyframe, parse_scene_list,
                       settings_from_args)
from cli.output import EXIT_OK, emit_json, say
from core.errors import InvalidRequestError, invalid_requests
from core.video.chains import chain_text, link_problem, parent_of
from core.video.project import ACTIVE_STATUSES, MAX_REFERENCE_IMAGES, Keyframe, ReferenceImage, Scene
from core.video.project_io import ProjectStore
from core.video.render_settings import RenderSettings
from core.video.scene_edits import (DeleteScenes, EditHistory, MoveScene, SetSceneField, SetSceneVideoInput,
                                    late_keyframe_problem, render_with_provider)

NONE = "none"  # the value that clears a file input (--image none)
MAX_SECONDS = 600
# what --unset takes: the render flag's name (as typed, without --) -> (kind, field)
UNSET_NAMES = {**{d.replace("_", "-"): ("setting", f) for d, f in SETTING_FLAGS.items() if f != "duration"},
               **{d.replace("_", "-"): ("option", f) for d, f in OPTION_FLAGS.items()}}
KEYFRAME_TOLERANCE = 1e-3  # seconds: --remove-keyframe 2.5 matches a keyframe saved at 2.5


def add_parsers(sub) -> None:
    """Register edit-scene, remove-scene and move-scene on `project`'s subparsers."""
    edit = sub.add_parser("edit-scene", help="change a scene's text, length, inputs or render settings (its takes "
                                             "stay)")
    edit.add_argument("dir", help="the project folder")
    edit.add_argument("scene", type=int, help="the scene's number (as `project info` lists them)")
    edit.add_argument("-p", "--prompt", help="what the scene shows")
    edit.add_argument("--title", help="the scene's title")
    edit.add_argument("--duration", type=float, help="the scene's length in the edit, in seconds")
    edit.add_argument("--image", metavar="PATH|none", help="start frame (none: no start frame)")
    edit.add_argument("--end-image", metavar="PATH|none", help="last frame (none: no last frame)")
    edit.add_argument("--keyframe", action="append", default=[], metavar="SECONDS:PATH",
                      help="add a keyframe (repeatable; one at the same time is replaced)")
    edit.add_argument("--remove-keyframe", action="append", default=[], type=float, metavar="SECONDS",
                      help="remove the keyframe at this time (repeatable)")
    edit.add_argument("--clear-keyframes", action="store_true", help="remove every keyframe first")
    edit.add_argument("--reference", action="append", default=[], metavar="PATH",
                      help=f"add a reference image to this scene (repeatable; at most {MAX_REFERENCE_IMAGES} in all)")
    edit.add_argument("--clear-references", action="store_true", help="remove the scene's own references first")
    edit.add_argument("--global-references", dest="global_references", action="store_true", default=None,
                      help="also use the project's reference images")
    edit.add_argument("--no-global-references", dest="global_references", action="store_false",
                      help="use only this scene's references")
    edit.add_argument("--source-video", metavar="PATH|none", help="video to transform (none: generate instead)")
    edit.add_argument("--extend", metavar="PATH|none", help="video to extend (none: generate instead)")
    add_extend_scene_flag(edit)
    edit.add_argument("--unset", action="append", default=[], metavar="FIELD",
                      help="go back to inheriting a render setting from the project, by its flag's name "
                           "(e.g. --unset camera-motion; repeatable)")
    edit.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_render_flags(edit, with_duration=False)

    remove = sub.add_parser("remove-scene", help="remove scenes with their takes (clip files stay on disk)")
    remove.add_argument("dir", help="the project folder")
    remove.add_argument("scenes", help="scene numbers, e.g. 2 or 1,3,5-7")
    remove.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    move = sub.add_parser("move-scene", help="move a scene to another place in the storyboard")
    move.add_argument("dir", help="the project folder")
    move.add_argument("scene", type=int, help="the scene's number")
    move.add_argument("--to", type=int, required=True, help="its new number")
    move.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def add_extend_scene_flag(parser) -> None:
    parser.add_argument("--extend-scene", metavar="N|previous|none",
                        help="extend the selected clip of scene N (or the previous scene) once it is rendered; "
                             "`project render` renders it first (none: generate instead)")


def extend_scene_target(store: ProjectStore, text: str, number: int, problems: list) -> Optional[str]:
    """The scene id --extend-scene names for the scene at `number` (the next number for a new scene); None for
    none. A problem (no such scene, itself, a loop) goes into `problems`."""
    value = text.strip().lower()
    if value == NONE:
        return None
    scenes = store.project.scenes
    target = number - 1 if value == "previous" else int(value) if value.isdigit() else None
    own = scenes[number - 1].id if number <= len(scenes) else None
    fits = [n for n, s in enumerate(scenes, 1) if n != number and not (own and link_problem(store.project, own, s.id))]
    choices = [str(n) for n in fits] + (["previous"] if number - 1 in fits else []) + [NONE]
    if target is None or not 1 <= target <= len(scenes):
        why = f"scene {number} has no previous scene" if value == "previous" else f"no scene {text}"
        problems.append(InvalidRequestError(why, field="--extend-scene", allowed=choices))
        return None
    parent = scenes[target - 1]
    problem = link_problem(store.project, own, parent.id) if own else None
    if problem:
        problems.append(InvalidRequestError(problem, field="--extend-scene", allowed=choices))
    return parent.id


def scene_at(store: ProjectStore, number: int, field: str = "scene") -> Scene:
    scenes = store.project.scenes
    if not 1 <= number <= len(scenes):
        raise InvalidRequestError(f"no scene {number}", field=field,
                                  allowed=[f"1-{len(scenes)}"] if scenes else ["none: the project has no scenes"])
    return scenes[number - 1]


# ---- edit-scene -------------------------------------------------------------------------------------------------

class _Checks:
    """Collects every problem of one edit-scene command (each names its flag and what is allowed)."""

    def __init__(self) -> None:
        self.problems: list[InvalidRequestError] = []

    def add(self, message: str, field: str, allowed: Optional[list] = None) -> None:
        self.problems.append(InvalidRequestError(message, field=field, allowed=allowed))

    def image(self, path: str, field: str) -> None:
        from cli.project import check_image_file
        problem = check_image_file(Path(path).expanduser(), field)
        if problem:
            self.problems.append(problem)

    def video(self, path: str, field: str) -> None:
        from cli.project import check_video_file
        _, problem = check_video_file(Path(path).expanduser(), field)
        if problem:
            self.problems.append(problem)


def _given(value: Optional[str]) -> bool:
    return value is not None and value.strip().lower() != NONE


def _render_changes(args, scene: Scene, project_provider: Optional[str], checks: _Checks) -> Optional[RenderSettings]:
    """The scene's new render settings, or None when no render flag was given."""
    try:
        typed = settings_from_args(args).updated(duration=None)  # --duration is the scene's length, not a setting
    except InvalidRequestError as exc:
        checks.problems += getattr(exc, "problems", None) or [exc]
        typed = RenderSettings()
    unset_settings: list[str] = []
    unset_options: list[str] = []
    typed_fields = set(typed.set_fields()) | {f"options.{k}" for k in typed.options}
    for name in args.unset:
        key = name.strip().removeprefix("--").replace("_", "-")
        key = {"aspect-ratio": "aspect", "include-audio": "audio"}.get(key, key)  # field names work too
        if key not in UNSET_NAMES:
            checks.add(f"--unset {name!r} is not a render setting", "--unset", sorted(UNSET_NAMES))
            continue
        kind, field = UNSET_NAMES[key]
        if (field if kind == "setting" else f"options.{field}") in typed_fields:
            checks.add(f"--unset {key} and --{key} given together", "--unset", ["one of them"])
        (unset_settings if kind == "setting" else unset_options).append(field)
    if typed.is_empty() and not args.unset:
        return None
    render = scene.render
    if "provider" in unset_settings or typed.provider is not None:
        # what belonged to the scene's old provider (model, deployment, options) does not carry over
        render = render_with_provider(render, typed.provider, project_provider or "animatic")
    changes: dict[str, Any] = {f: None for f in unset_settings if f != "provider"}
    changes.update({k: v for k, v in typed.set_fields().items() if k != "provider"})
    options = {**{k: None for k in unset_options}, **typed.options}
    return render.updated(**changes, options=options)


def _keyframes(args, scene: Scene, checks: _Checks) -> Optional[list[tuple[float, Any]]]:
    """The scene's keyframes after this command as (seconds, existing Keyframe or a new file's Path), or None when
    the command leaves them alone. Times past the (new) end of the scene are refused."""
    if not (args.keyframe or args.remove_keyframe or args.clear_keyframes):
        return None
    kept: list[tuple[float, Any]] = [] if args.clear_keyframes else [(k.seconds, k) for k in scene.keyframes]
    for seconds in args.remove_keyframe:
        match = [item for item in kept if abs(item[0] - seconds) <= KEYFRAME_TOLERANCE]
        if not match:
            checks.add(f"the scene has no keyframe at {seconds:g} s", "--remove-keyframe",
                       [f"{s:g}" for s, _ in kept] or ["none: the scene has no keyframes"])
        kept = [item for item in kept if item not in match]
    for text in args.keyframe:
        try:
            seconds, path = parse_keyframe(text)
        except InvalidRequestError as exc:
            checks.problems.append(exc)
            continue
        checks.image(str(path), "--keyframe")
        kept = [item for item in kept if abs(item[0] - seconds) > KEYFRAME_TOLERANCE] + [(seconds, path)]
    return sorted(kept, key=lambda item: item[0])


def _late_keyframes(keyframes: list[tuple[float, Any]], duration: float, checks: _Checks, shortened: bool) -> None:
    problem = late_keyframe_problem([s for s, _ in keyframes], duration, shortened=shortened,
                                    duration_field="--duration", keyframe_field="--keyframe",
                                    remove_flag="--remove-keyframe")
    if problem is not None:  # the same rule SetSceneField applies: said here with every other problem
        checks.problems.append(problem)


VIDEO_FLAGS = {"extend_scene_id": "--extend-scene", "extend_video": "--extend", "source_video": "--source-video"}


def _video_input(args, store: ProjectStore, number: int, scene: Scene, checks: _Checks) -> Optional[dict]:
    """The scene's video input after this command ({"extend_scene_id" | "extend_video" | "source_video": value},
    {} to generate), or None when no video flag was given. A scene has one video input: the one given replaces
    the one it had; two given in one command are refused."""
    typed = {k: v for k, v in (("extend_video", args.extend), ("source_video", args.source_video)) if v is not None}
    if args.extend_scene is None and not typed:
        return None
    paths = {k: v for k, v in typed.items() if _given(v)}
    if len(paths) > 1:
        checks.add("--source-video and --extend given together: a scene has one video input", "--source-video",
                   ["one of them"])
    parent = None
    if args.extend_scene is not None:
        parent = extend_scene_target(store, args.extend_scene, number, checks.problems)
        for field in paths if parent else ():
            checks.add(f"--extend-scene and {VIDEO_FLAGS[field]} given together", "--extend-scene",
                       ["one video input: a scene, a clip (--extend) or a source (--source-video)"])
    if paths:
        return paths
    if parent:
        return {"extend_scene_id": parent}
    cleared = set(typed) | ({"extend_scene_id"} if args.extend_scene is not None else set())  # each "none"
    return {k: getattr(scene, k) for k in SetSceneVideoInput.FIELDS if getattr(scene, k) and k not in cleared}


def scene_number(store: ProjectStore, scene_id: Optional[str]) -> Optional[int]:
    """The storyboard number of the scene with that id; None for none or a removed scene."""
    return next((i + 1 for i, s in enumerate(store.project.scenes) if s.id == scene_id), None)


def _replaced_text(store: ProjectStore, field: str, value: str) -> str:
    if field == "extend_scene_id":
        number = scene_number(store, value)
        return f"its link to scene {number}" if number else "its link to a removed scene"
    return {"extend_video": "its clip to extend ", "source_video": "its source video "}[field] + value


def scene_warnings(store: ProjectStore, scene: Scene) -> list[str]:
    """What is still wrong with a scene after an edit that did not touch it (said, not refused)."""
    notes = []
    for k in scene.keyframes:
        if not store.resolve(k.image).is_file():
            notes.append(f"the keyframe at {k.seconds:g} s ({k.image}) is missing: --remove-keyframe {k.seconds:g}")
        if k.seconds > scene.duration + 1e-6:
            notes.append(f"the keyframe at {k.seconds:g} s is past the end of the {scene.duration:g} s scene: "
                         f"--remove-keyframe {k.seconds:g} or a longer --duration")
    for flag, rel in (("--image", scene.start_frame), ("--end-image", scene.end_frame),
                      ("--source-video", scene.source_video), ("--extend", scene.extend_video)):
        if rel and not store.resolve(rel).is_file():
            notes.append(f"{rel} is missing: {flag} PATH or {flag} none")
    for r in scene.reference_images:
        if not store.resolve(r.path).is_file():
            notes.append(f"the reference {r.path} is missing: --clear-references")
    notes += chain_warnings(store, scene)
    return notes


def chain_warnings(store: ProjectStore, scene: Scene) -> list[str]:
    """A link to a removed scene, or to a scene placed after this one (allowed: the link names the scene)."""
    if scene.extend_scene_id is None:
        return []
    parent = parent_of(store.project, scene)
    if parent is None:
        return [f"it extends a removed scene ({scene.extend_scene_id}): --extend-scene N or --extend-scene none"]
    order = [s.id for s in store.project.scenes]
    if order.index(parent.id) > order.index(scene.id):
        return [f"it {chain_text(store.project, scene)}, which comes after it in the storyboard"]
    return []


def _import(store: ProjectStore, path: str, kind: str) -> str:
    return store.import_asset(Path(path).expanduser(), kind)


def cmd_edit_scene(args) -> int:
    store = ProjectStore.open(Path(args.dir))
    scene = scene_at(store, args.scene)
    checks = _Checks()
    video_input = _video_input(args, store, args.scene, scene, checks)
    if args.duration is not None and not 0 < args.duration <= MAX_SECONDS:
        checks.add(f"{args.duration:g} s is not a scene length", "--duration",
                   [f"more than 0 and at most {MAX_SECONDS} s"])
    duration = args.duration if args.duration is not None and 0 < args.duration <= MAX_SECONDS else scene.duration
    for flag, value in (("--image", args.image), ("--end-image", args.end_image)):
        if _given(value):
            checks.image(value, flag)
    for flag, value in (("--source-video", args.source_video), ("--extend", args.extend)):
        if _given(value):
            checks.video(value, flag)
    for path in args.reference:
        checks.image(path, "--reference")
    own_refs = 0 if args.clear_references else len(scene.reference_images)
    if own_refs + len(args.reference) > MAX_REFERENCE_IMAGES:
        checks.add(f"the scene would have {own_refs + len(args.reference)} reference images", "--reference",
                   [f"at most {MAX_REFERENCE_IMAGES} (--clear-references removes the scene's own)"])
    keyframes = _keyframes(args, scene, checks)
    if keyframes is not None:
        _late_keyframes(keyframes, duration, checks, shortened=False)
    elif args.duration is not None and duration < scene.duration:
        _late_keyframes([(k.seconds, k) for k in scene.keyframes], duration, checks, shortened=True)
    render = _render_changes(args, scene, store.project.render.provider, checks)
    if checks.problems:
        raise invalid_requests(checks.problems)

    # everything checked: copy the files in, then the edits (the same objects the GUI pushes), then one save
    values: dict[str, Any] = {}
    for field, value in (("prompt", args.prompt), ("title", args.title), ("duration", args.duration),
                         ("use_global_references", args.global_references)):
        if value is not None:
            values[field] = value
    for field, value, kind in (("start_frame", args.image, "images"), ("end_frame", args.end_image, "images")):
        if value is not None:
            values[field] = _import(store, value, kind) if _given(value) else None
    if keyframes is not None:
        values["keyframes"] = [k if isinstance(k, Keyframe) else Keyframe(seconds=s, image=_import(store, k, "images"))
                               for s, k in keyframes]
    if args.reference or args.clear_references:
        kept = [] if args.clear_references else list(scene.reference_images)
        values["reference_images"] = kept + [ReferenceImage(path=_import(store, r, "references"))
                                             for r in args.reference]
    if render is not None:
        values["render"] = render
    history = EditHistory(store.project, lock=store.lock)
    changed = []
    if "duration" in values and "keyframes" in values and values["duration"] < scene.duration:
        values = {"keyframes": values.pop("keyframes"), **values}  # the keyframes fit first, then the shorter scene
    for field, value in values.items():
        if getattr(scene, field) != value:
            history.push(SetSceneField(scene.id, field, value))
            changed.append(field)
    replaced = []  # the video input the new one took the place of
    if video_input is not None:
        before = {k: getattr(scene, k) for k in SetSceneVideoInput.FIELDS}
        new = {k: (v if k == "extend_scene_id" or v == before[k] else _import(store, v, "clips"))
               for k, v in video_input.items()}
        if {k: new.get(k) for k in SetSceneVideoInput.FIELDS} != before:
            history.push(SetSceneVideoInput(scene.id, **new))
            changed += [k for k in SetSceneVideoInput.FIELDS if getattr(scene, k) != before[k]]
            replaced = [{"field": k, "was": v, "by": VIDEO_FLAGS[next(iter(new))]}
                        for k, v in before.items() if v and k not in new and new]
    if changed:
        store.save()
    from cli.scene_length import length_warnings
    warnings = scene_warnings(store, scene) + length_warnings(store, scene)
    if args.json:
        emit_json({"project": str(store.folder), "scene": args.scene, "scene_id": scene.id, "changed": changed,
                   "replaced": replaced, "warnings": warnings, "takes": len(scene.takes),
                   "values": scene.model_dump(mode="json", exclude={"takes", "selected_take_id", "id"})})
    else:
        say(f"scene {args.scene}: changed {', '.join(changed)}" if changed else f"scene {args.scene}: nothing changed")
        for r in replaced:
            say(f"scene {args.scene}: {r['by']} replaces {_replaced_text(store, r['field'], r['was'])} (a scene has "
                f"one video input)")
        for note in warnings:
            say(f"scene {args.scene}: {note}")
    return EXIT_OK


# ---- remove-scene, move-scene -----------------------------------------------------------------------------------

def cmd_remove_scene(args) -> int:
    store = ProjectStore.open(Path(args.dir))
    numbers = parse_scene_list(args.scenes, len(store.project.scenes), "scenes")
    scenes = [store.project.scenes[n - 1] for n in numbers]
    busy = [(n, t) for n, s in zip(numbers, scenes) for t in s.takes if t.status in ACTIVE_STATUSES]
    if busy:
        raise invalid_requests([InvalidRequestError(
            f"scene {n} has a paid render in progress (take {t.id} is {t.status}); let `project render` finish it "
            f"first", field="scenes", allowed=["scenes with no render in progress"]) for n, t in busy])
    removed = [{"scene": n, "scene_id": s.id, "title": s.title, "prompt": s.prompt, "takes": len(s.takes)}
               for n, s in zip(numbers, scenes)]
    number = {s.id: i + 1 for i, s in enumerate(store.project.scenes)}
    edit = EditHistory(store.project, lock=store.lock).push(DeleteScenes([s.id for s in scenes]))
    store.save()
    unlinked = [{"scene": number[s.id], "scene_id": s.id, "extended": number[parent]} for s, parent in edit.unlinked]
    if args.json:
        emit_json({"project": str(store.folder), "removed": removed, "scenes": len(store.project.scenes),
                   "unlinked": unlinked})
    else:
        for row in removed:
            say(f"removed scene {row['scene']} with its {row['takes']} take(s) (clip files stay in clips/)")
        for row in unlinked:
            say(f"scene {row['scene']} extended removed scene {row['extended']}: it now generates its clip")
        say(f"{len(store.project.scenes)} scene(s) left")
    return EXIT_OK


def cmd_move_scene(args) -> int:
    store = ProjectStore.open(Path(args.dir))
    scene = scene_at(store, args.scene)
    count = len(store.project.scenes)
    if not 1 <= args.to <= count:
        raise InvalidRequestError(f"--to {args.to} is outside the storyboard", field="--to", allowed=[f"1-{count}"])
    if args.to != args.scene:
        EditHistory(store.project, lock=store.lock).push(MoveScene(scene.id, args.to - 1))
        store.save()
    warnings = [f"scene {i + 1}: {w}" for i, s in enumerate(store.project.scenes) for w in chain_warnings(store, s)]
    if args.json:
        emit_json({"project": str(store.folder), "scene_id": scene.id, "from": args.scene, "to": args.to,
                   "order": [s.id for s in store.project.scenes], "warnings": warnings})
    else:
        say(f"moved scene {args.scene} to {args.to}")
        for note in warnings:
            say(note)
    return EXIT_OK


#: `project` subcommand -> its function (cli/project.py dispatches through this)
COMMANDS = {"edit-scene": cmd_edit_scene, "remove-scene": cmd_remove_scene, "move-scene": cmd_move_scene}
