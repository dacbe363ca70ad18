"""Planning a chained scene before its parent rendered: the child's request names the file the parent's clip will
have and carries that clip's facts (`RenderRequest.pending_video`: length and size from the parent's plan), so the
provider prepares and prices the child without a file, and the estimate shown before the run includes the child and
its problems. Nothing is encoded and nothing is written. When the parent's clip exists the queue prepares the child
again against it (core/render/queue.py)."""
from __future__ import annotations

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
