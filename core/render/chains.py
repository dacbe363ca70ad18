"""Planning a chained scene before its parent rendered: the child's request names the file the parent's clip will
have and carries that clip's facts (`RenderRequest.pending_video`: length and size from the parent's plan), so the
provider prepares and prices the child without a file, and the estimate shown before the run includes the child and
its problems. Nothing is encoded and nothing is written. When the parent's clip exists the queue prepares the child
again against it (core/render/queue.py)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from core.render.contract import PendingVideo, RenderPlan
from core.render.requests import ChainInput, chain_identity, clip_rel_path
from core.video.project import Scene, Take
from core.video.project_io import ProjectStore

#: the size assumed when the parent's plan does not say (a resumed job whose plan could not be made again)
DEFAULT_SIZE = (1280, 720)


def pending_clip(store: ProjectStore, parent: Scene, take_id: str, plan: Optional[RenderPlan],
                 seconds: float) -> ChainInput:
    """The clip `parent` renders in this run as take `take_id`: where it will be and how long and large `plan`
    makes it (`seconds` long when the plan does not say)."""
    rel = clip_rel_path(parent, Take(id=take_id, provider="pending"))
    width, height = DEFAULT_SIZE
    fps = 0.0
    if plan is not None:
        width, height = plan.width or width, plan.height or height
        seconds = plan.expected_seconds or plan.render_seconds or seconds
        fps = float(plan.fps or 0.0)
    path = store.resolve(rel)
    facts = PendingVideo(path=path, scene_id=parent.id, seconds=float(seconds), width=int(width),
                         height=int(height), fps=fps)
    return ChainInput(path, chain_identity(parent, take_id, rel), facts)


def scene_start(plan: RenderPlan, clip_seconds: float) -> Optional[float]:
    """Where the scene lies in the clip an extension returned (None: from its start). Endpoints differ: some return
    only the new part, others the source footage and the new part together (the fal LTX-2 extend endpoint, Veo's
    extension). Decided from facts: the clip's decoded length against the source's length and the new part asked
    for; a clip that holds both starts the scene after the source (forward) or at 0 (backward)."""
    from core.errors import InvalidRequestError
    from core.video.media import probe
    source_path = plan.request.extend_video
    if plan.mode != "extend" or source_path is None:
        return None
    try:
        source = probe(Path(source_path)).duration
    except InvalidRequestError:
        return None
    new = float(plan.render_seconds or plan.cut_seconds or 0.0)
    if not source or abs(clip_seconds - (source + new)) >= abs(clip_seconds - new):
        return None  # the new part alone
    direction = plan.request.layered.settings.options.get("extend_direction") or "forward"
    if direction == "forward":
        return round(source, 3)
    return 0.0 if direction == "backward" else None  # both sides new: the whole clip is the scene
