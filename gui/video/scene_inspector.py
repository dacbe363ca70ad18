"""The scene inspector beside the storyboard: everything of the one selected scene. Start and end frame, the
keyframe strip (images at times within the scene), what the scene does (generate; extend the previous scene's clip
or a chosen clip, forward or backward; transform a source video), and its own render settings
(gui/video/inspector_settings.py).

Every change is one undoable edit through the session (core.video.scene_edits; a mode switch that sets several
fields is one SetSceneFields), so Undo takes it back and Save writes it. Files given here are checked first and
then copied into the project the way the CLI's edit-scene does (ProjectStore.import_asset: images/ and clips/)."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable, Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from core.errors import ImageAIError
from core.video.media import VIDEO_KINDS, is_image, video_input_problem
from core.video.project import Keyframe, Scene
from core.video.scene_edit_group import SetSceneFields
from core.video.scene_edits import Edit, SetSceneField
from gui.video import combo_utils
from gui.video.image_thumbs import ImageThumbs
from gui.video.inspector_inputs import FrameSlot, VideoPicker
from gui.video.inspector_settings import SceneSettingsForm
from gui.video.keyframe_strip import TOLERANCE, KeyframeEditor, free_time
from gui.video.project_session import ProjectSession
from gui.video.provider_info import ProviderInfo

GENERATE, EXTEND_PREVIOUS, EXTEND_CLIP, TRANSFORM = "generate", "extend_previous", "extend_clip", "transform"
MODES = {GENERATE: "Generate (prompt, frames, keyframes)", EXTEND_PREVIOUS: "Extend the previous scene's clip",
         EXTEND_CLIP: "Extend a chosen clip", TRANSFORM: "Transform a source video"}
DIRECTIONS = {"": "Forward (continue after the clip)", "backward": "Backward (lead into the clip)"}
VIDEO_INPUTS = ("extend_scene_id", "extend_video", "source_video")


def scene_mode(scene: Scene) -> str:
    if scene.extend_scene_id is not None:
        return EXTEND_PREVIOUS
    if scene.extend_video:
        return EXTEND_CLIP
    if scene.source_video:
        return TRANSFORM
    return GENERATE


def import_file(store, path: str, kind: str, field: str) -> tuple[Optional[str], Optional[str]]:
    """(project-relative path, None) once a file the user gave is checked and copied into the project's `kind`
    folder, or (None, why not). Safe on a worker thread: it touches files only, never the project model."""
    p = Path(path).expanduser()
    if not p.is_file():
        return None, f"{field}: {p} is no file"
    if kind == "images" and not is_image(p):
        return None, f"{field}: {p.name} is not an image this app can use (PNG, JPEG, WebP)"
    if kind == "clips":
        why = video_input_problem(p)  # the CLI's and the planner's check: a still is never taken as a clip
        if why:
            return None, f"{field}: {why} (allowed: {', '.join(VIDEO_KINDS)})"
    try:
        return store.import_asset(p, kind), None
    except (OSError, ValueError, ImageAIError) as exc:
        return None, f"{field}: {p.name} could not be copied into the project: {exc}"


class SceneInspector(QWidget):
    problem = Signal(str)
    _video_ready = Signal(str, str, str, object, object)  # scene id, field, mode, rel or None, problem or None

    def __init__(self, session: ProjectSession, info: ProviderInfo, ready: Callable[[], bool],
                 parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("sceneInspector")
        self.session = session
        self.scene_id: Optional[str] = None
        self._pending_mode: Optional[str] = None  # a mode chosen whose video is not given yet
        self.importing = False  # a video is being copied into the project
        self._loading = False
        self.header = QLabel("", objectName="inspectorHeader")
        self.header.setWordWrap(True)
        self.thumbs = ImageThumbs(self)
        self.start = FrameSlot("Start frame", "inspectorStartFrame", self.thumbs)
        self.end = FrameSlot("End frame", "inspectorEndFrame", self.thumbs)
        self.keyframes = KeyframeEditor(self.thumbs)
        self.mode = QComboBox(objectName="inspectorModeCombo")
        self.direction = combo_utils.id_combo(DIRECTIONS, "inspectorDirectionCombo")
        self.video = VideoPicker("inspectorVideoEdit")
        self.video_label = QLabel("Clip:")
        self.chain_note = QLabel("", objectName="inspectorChainNote")
        self.chain_note.setWordWrap(True)
        self.settings = SceneSettingsForm(info, ready)
        for combo in (self.mode, self.direction):  # long labels: elided rather than widening the panel
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(14)
        self._build()
        self._connect()
        self.load()

    def _build(self) -> None:
        frames = QHBoxLayout()
        frames.setContentsMargins(0, 0, 0, 0)
        frames.addWidget(self.start)
        frames.addWidget(self.end)
        frames.addStretch(1)
        inputs = QGroupBox("Images")
        v = QVBoxLayout(inputs)
        v.setSpacing(4)
        v.addLayout(frames)
        v.addWidget(QLabel("Keyframes (drag to move, Delete to remove):"))
        v.addWidget(self.keyframes)

        action = QGroupBox("What the scene does")
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        form.addRow(self.mode)
        form.addRow("Direction:", self.direction)
        form.addRow(self.video_label, self.video)
        self._action_form = form
        box = QVBoxLayout(action)
        box.addLayout(form)
        box.addWidget(self.chain_note)  # outside the form: a wrapped label gets its full height here

        settings = QGroupBox("This scene's render settings")
        QVBoxLayout(settings).addWidget(self.settings)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.header)
        lay.addWidget(action)  # first: it decides which inputs below matter
        lay.addWidget(inputs)
        lay.addWidget(settings)
        lay.addStretch(1)
        self._sections = (inputs, action, settings)

    def _connect(self) -> None:
        self.start.chosen.connect(lambda path: self._set_frame("start_frame", path))
        self.end.chosen.connect(lambda path: self._set_frame("end_frame", path))
        self.start.cleared.connect(lambda: self._apply(SetSceneField(self.scene_id, "start_frame", None)))
        self.end.cleared.connect(lambda: self._apply(SetSceneField(self.scene_id, "end_frame", None)))
        self.keyframes.add_requested.connect(self.add_keyframes)
        self.keyframes.move_requested.connect(self.move_keyframe)
        self.keyframes.remove_requested.connect(self.remove_keyframe)
        self.mode.currentIndexChanged.connect(lambda _: self._on_mode(self.mode.currentData()))
        self.direction.currentIndexChanged.connect(lambda _: self._on_direction())
        self.video.chosen.connect(self._on_video)
        self.settings.edit_requested.connect(self._apply)
        self._video_ready.connect(self._on_video_ready)
        s = self.session
        s.project_replaced.connect(lambda: self.set_scene(None))
        s.scene_changed.connect(lambda sid: self.load() if sid == self.scene_id else None)
        s.scenes_reset.connect(self._check_scene)

    # --- which scene ------------------------------------------------------------------------------------
    def set_scene(self, scene_id: Optional[str]) -> None:
        if scene_id != self.scene_id:
            self._pending_mode = None
        self.scene_id = scene_id
        self.load()

    def scene(self) -> Optional[Scene]:
        return self.session.scene(self.scene_id)

    def _check_scene(self) -> None:
        if self.scene_id is not None and self.scene() is None:
            self.scene_id = None
        self.load()  # the previous scene may have moved

    def _previous(self, scene: Scene) -> Optional[Scene]:
        scenes = self.session.project.scenes
        i = next(i for i, s in enumerate(scenes) if s.id == scene.id)
        return scenes[i - 1] if i > 0 else None

    # --- showing ----------------------------------------------------------------------------------------
    def load(self) -> None:
        self._loading = True
        try:
            self._load()
        finally:
            self._loading = False

    def _load(self) -> None:
        scene = self.scene()
        for section in self._sections:
            section.setEnabled(scene is not None)
        self.settings.load(self.session.project, scene)
        if scene is None:
            self.header.setText("<b>Scene inspector</b><br>Select one scene in the storyboard to edit it here.")
            self.start.show_file(None, None)
            self.end.show_file(None, None)
            self.keyframes.set_keyframes(5.0, [])
            self._show_mode(None)
            return
        number = self.session.project.scenes.index(scene) + 1
        title = scene.title or scene.prompt[:40] or "untitled"
        self.header.setText(f"<b>Scene {number}</b> · {_html(title)} · {scene.duration:g} s")
        self.start.show_file(scene.start_frame, self._path(scene.start_frame))
        self.end.show_file(scene.end_frame, self._path(scene.end_frame))
        self.keyframes.set_keyframes(scene.duration, [(k.seconds, self._path(k.image), k.image)
                                                      for k in scene.keyframes])
        self._show_mode(scene)

    def _show_mode(self, scene: Optional[Scene]) -> None:
        mode = self._pending_mode or (scene_mode(scene) if scene else GENERATE)
        previous = self._previous(scene) if scene else None
        items = [(label, key, None) for key, label in MODES.items()]
        if scene is not None and previous is None:
            items[1] = (items[1][0], EXTEND_PREVIOUS, "The first scene has no previous scene to extend")
        if scene is not None and scene.extend_scene_id is not None and \
                (previous is None or scene.extend_scene_id != previous.id):
            parent = self._number_of(scene.extend_scene_id)
            items[1] = (f"Extend scene {parent}'s clip" if parent else "Extend a removed scene's clip",
                        EXTEND_PREVIOUS, None)
        combo_utils.fill(self.mode, items, keep=mode, allow_disabled=True)
        extend = mode in (EXTEND_PREVIOUS, EXTEND_CLIP)
        self._action_form.setRowVisible(self.direction, extend)  # only a scene that extends a clip has one
        direction = (scene.render.options.get("extend_direction") if scene else None) or ""
        combo_utils.select(self.direction, "backward" if direction == "backward" else "")
        needs_file = mode in (EXTEND_CLIP, TRANSFORM)
        self._action_form.setRowVisible(self.video, needs_file)
        self.video_label.setText("Clip:" if mode == EXTEND_CLIP else "Source:")
        self.video.setToolTip("The clip this scene extends" if mode == EXTEND_CLIP
                              else "The video this scene transforms")
        rel = None
        if scene is not None and not self._pending_mode:
            rel = scene.extend_video if mode == EXTEND_CLIP else scene.source_video if mode == TRANSFORM else None
        self.video.show_file(rel)
        self.chain_note.setText(self._mode_note(scene, mode, previous))

    def _mode_note(self, scene: Optional[Scene], mode: str, previous: Optional[Scene]) -> str:
        if scene is None:
            return ""
        if self._pending_mode:
            return "Choose the video: the scene changes once it is given."
        if mode == EXTEND_PREVIOUS:
            parent = self._number_of(scene.extend_scene_id)
            return (f"Extends scene {parent}'s selected clip; waits for it when both render in one run." if parent
                    else "The scene it extended was removed: choose another mode.")
        if mode == GENERATE:
            return "Made from the prompt and the images below."
        return ""

    def _number_of(self, scene_id: Optional[str]) -> Optional[int]:
        for i, s in enumerate(self.session.project.scenes):
            if s.id == scene_id:
                return i + 1
        return None

    def _path(self, rel: Optional[str]) -> Optional[Path]:
        if not rel or self.session.store is None:
            return None
        try:
            return self.session.store.resolve(rel)
        except ImageAIError:
            return None

    # --- edits ------------------------------------------------------------------------------------------
    def _apply(self, edit: Edit) -> bool:
        if self._loading or self.scene() is None:
            return False
        try:
            self.session.apply(edit)
            return True
        except ImageAIError as exc:
            self.problem.emit(str(exc))
            self.load()  # show the scene as it is
            return False

    def _import(self, path: str, kind: str, field: str) -> Optional[str]:
        """Check a file the user gave and copy it into the project; None (and the reason said) when it cannot."""
        rel, problem = import_file(self.session.store, path, kind, field)
        if problem:
            self.problem.emit(problem)
        return rel

    def _set_frame(self, field: str, path: str) -> None:
        if self.scene() is None:
            return
        rel = self._import(path, "images", field)
        if rel is not None:
            self._apply(SetSceneField(self.scene_id, field, rel))

    def add_keyframes(self, files: list[str], seconds: Any = None) -> None:
        """Add images as keyframes: the first at `seconds` (None: the largest free gap), the others in free gaps.
        A keyframe already at that time is replaced, as with the CLI's --keyframe."""
        scene = self.scene()
        if scene is None:
            return
        kept = list(scene.keyframes)
        for i, path in enumerate(files):
            rel = self._import(path, "images", "keyframes")
            if rel is None:
                continue
            at = seconds if seconds is not None and i == 0 else free_time([k.seconds for k in kept], scene.duration)
            at = round(min(max(float(at), 0.0), scene.duration), 3)
            kept = [k for k in kept if abs(k.seconds - at) > TOLERANCE] + [Keyframe(seconds=at, image=rel)]
        kept.sort(key=lambda k: k.seconds)
        if kept != scene.keyframes:
            self._apply(SetSceneField(scene.id, "keyframes", kept))

    def move_keyframe(self, index: int, seconds: float) -> None:
        scene = self.scene()
        if scene is None or not 0 <= index < len(scene.keyframes):
            return
        others = [k for i, k in enumerate(scene.keyframes) if i != index]
        if any(abs(k.seconds - seconds) <= TOLERANCE for k in others):
            self.problem.emit(f"keyframes: another keyframe is at {seconds:g} s; move that one first")
            self.load()
            return
        moved = Keyframe(seconds=seconds, image=scene.keyframes[index].image)
        kept = sorted(others + [moved], key=lambda k: k.seconds)
        if self._apply(SetSceneField(scene.id, "keyframes", kept)):
            self.keyframes.strip.select(kept.index(moved))

    def remove_keyframe(self, index: int) -> None:
        scene = self.scene()
        if scene is not None and 0 <= index < len(scene.keyframes):
            self._apply(SetSceneField(scene.id, "keyframes", scene.keyframes[:index] + scene.keyframes[index + 1:]))

    def _on_mode(self, mode: str) -> None:
        scene = self.scene()
        if scene is None or self._loading:
            return
        self._pending_mode = None
        if mode == scene_mode(scene) and mode != EXTEND_PREVIOUS:
            self.load()
            return
        if mode == GENERATE:
            self._set_inputs(scene, {}, "Generate the scene")
        elif mode == EXTEND_PREVIOUS:
            previous = self._previous(scene)
            if previous is not None and scene.extend_scene_id != previous.id:
                self._set_inputs(scene, {"extend_scene_id": previous.id}, "Extend the previous scene")
        else:
            self._pending_mode = mode  # nothing changes until the video is given
            self.load()

    def _set_inputs(self, scene: Scene, values: dict, text: str) -> bool:
        """Set the scene's one video input (the others cleared) as one undo step; the direction goes with an
        extend and is dropped otherwise."""
        full = {f: values.get(f) for f in VIDEO_INPUTS}
        if not (full.get("extend_scene_id") or full.get("extend_video")) and \
                "extend_direction" in scene.render.options:
            full["render"] = scene.render.updated(options={"extend_direction": None})
        changed = {f: v for f, v in full.items() if getattr(scene, f) != v}
        return bool(changed) and self._apply(SetSceneFields(scene.id, changed, text))

    def _on_video(self, path: str) -> None:
        """A video is probed and copied into the project on a worker thread (a long source video takes seconds);
        the edit follows on the GUI thread, for the scene it was given for."""
        scene = self.scene()
        mode = self._pending_mode or (scene_mode(scene) if scene else None)
        if scene is None or mode not in (EXTEND_CLIP, TRANSFORM) or self.importing:
            return
        field = "extend_video" if mode == EXTEND_CLIP else "source_video"
        self.importing = True
        self.video.setEnabled(False)
        self.chain_note.setText(f"Copying {Path(path).name} into the project…")
        store = self.session.store

        def work() -> None:
            result = import_file(store, path, "clips", field)
            try:
                self._video_ready.emit(scene.id, field, mode, *result)
            except RuntimeError:  # the window closed meanwhile: nobody is left to tell
                pass

        threading.Thread(target=work, name="inspector-import", daemon=True).start()

    def _on_video_ready(self, scene_id: str, field: str, mode: str, rel: Optional[str], problem: Optional[str]):
        self.importing = False
        self.video.setEnabled(True)
        if problem:
            self.problem.emit(problem)
        scene = self.scene()
        if rel is None or scene is None or scene.id != scene_id:
            self.load()  # refused, or the user moved on to another scene meanwhile: nothing changes
            return
        self._pending_mode = None
        if not self._set_inputs(scene, {field: rel}, "Extend a clip" if mode == EXTEND_CLIP else
                                "Transform a video"):
            self.load()

    def _on_direction(self) -> None:
        scene = self.scene()
        if scene is None or self._loading:
            return
        value = self.direction.currentData() or None
        if scene.render.options.get("extend_direction") != value:
            self._apply(SetSceneField(scene.id, "render", scene.render.updated(options={"extend_direction": value})))


    def shutdown(self) -> None:
        self.thumbs.shutdown()


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
