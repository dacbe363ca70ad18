"""Chains of scenes: a scene may extend the selected clip of another scene (`Scene.extend_scene_id`). The rules every
front end and the render queue share: which scene a link may name (an existing other scene, never a cycle), the
order parents come before their children, and how a link reads to a user."""
from __future__ import annotations

from typing import Optional

from core.errors import InvalidRequestError
from core.video.project import Scene, VideoProject


def numbers(project: VideoProject) -> dict[str, int]:
    """Scene id -> its 1-based number in the storyboard."""
    return {s.id: i + 1 for i, s in enumerate(project.scenes)}


def parent_of(project: VideoProject, scene: Scene) -> Optional[Scene]:
    """The scene `scene` extends, or None (no link, or a link to a scene that is gone)."""
    if scene.extend_scene_id is None:
        return None
    return next((s for s in project.scenes if s.id == scene.extend_scene_id), None)


def link_problem(project: VideoProject, scene_id: str, parent_id: Optional[str]) -> Optional[str]:
    """Why scene `scene_id` cannot extend `parent_id` (None: it can, or the link is being cleared)."""
    if parent_id is None:
        return None
    number = numbers(project)
    if parent_id not in number:
        return f"no scene with id {parent_id!r} to extend"
    if parent_id == scene_id:
        return f"scene {number.get(scene_id, '?')} cannot extend itself"
    links = {s.id: s.extend_scene_id for s in project.scenes}
    links[scene_id] = parent_id
    seen = [scene_id]
    at = parent_id
    while at is not None and at in links:
        if at == scene_id or at in seen:
            path = " -> ".join(f"scene {number[s]}" for s in seen + [at])
            return f"scene {number[scene_id]} cannot extend scene {number[parent_id]}: that makes a loop ({path})"
        seen.append(at)
        at = links.get(at)
    return None


def check_link(project: VideoProject, scene_id: str, parent_id: Optional[str]) -> None:
    problem = link_problem(project, scene_id, parent_id)
    if problem:
        allowed = [f"scene {n}" for sid, n in numbers(project).items()
                   if sid != scene_id and link_problem(project, scene_id, sid) is None] + ["none"]
        raise InvalidRequestError(problem, field="extend_scene_id", allowed=allowed)


def in_chain_order(project: VideoProject, scenes: list[Scene]) -> list[Scene]:
    """`scenes` with every parent before its children (among `scenes`); otherwise in the given order. A loop (a
    project file edited by hand) keeps its members in the given order: planning reports it."""
    wanted = {s.id for s in scenes}
    done: set[str] = set()
    out: list[Scene] = []

    def visit(scene: Scene, path: set[str]) -> None:
        if scene.id in done or scene.id in path:
            return
        parent = parent_of(project, scene)
        if parent is not None and parent.id in wanted:
            visit(parent, path | {scene.id})
        done.add(scene.id)
        out.append(scene)

    for s in scenes:
        visit(s, set())
    return out


def chain_text(project: VideoProject, scene: Scene) -> Optional[str]:
    """'extends scene 2 (forward)', for `project info` and the table; None without a link."""
    if scene.extend_scene_id is None:
        return None
    parent = parent_of(project, scene)
    if parent is None:
        return f"extends a removed scene ({scene.extend_scene_id})"
    direction = project.scene_settings(scene).settings.options.get("extend_direction") or "forward"
    return f"extends scene {numbers(project)[parent.id]} ({direction})"
