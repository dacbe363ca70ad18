"""Three-way merge of a project another process saved (theirs) into the one in memory (ours), from what both
started from (base: the file as this process last read or wrote it).

The merge works in place: the render queue holds references to Scene and Take objects and to the scenes/takes lists,
so those objects are mutated, never replaced. Fields are compared as JSON values and never listed by name (the
settings models change shape): a field we did not change since base takes theirs, a field we changed keeps ours,
dict-valued fields (render settings, export settings) merge per key the same way.

- scenes by id: one added on either side stays (at its place in that side's order); one deleted on one side and
  unchanged on the other goes; one deleted on one side but changed on the other stays (a changed scene may hold a
  paid take). A new scene order on one side is kept when the other side did not reorder.
- takes by id within a scene: union; a take both have: the one further along wins (queued < submitted < running <
  done/failed/cancelled), and a remote job id either side has is kept (it is a paid job).
- selected_take_id: ours if we changed it, else theirs.
- image takes by id within a scene: union (one deleted here and in base stays deleted).
- ledger: union of entries, keyed by the whole entry.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Optional

from pydantic import BaseModel, ValidationError

from core.video.project import ImageTake, LedgerEntry, Scene, Take, VideoProject

log = logging.getLogger(__name__)

_MISSING = object()
# fields the merge handles itself, or that belong to this save (modified_at is set again when it is written)
_PROJECT_OWN = {"scenes", "ledger", "modified_at", "schema_version"}
_SCENE_OWN = {"id", "takes", "selected_take_id", "image_takes"}
_STATUS_RANK = {"queued": 0, "submitted": 1, "running": 2, "done": 3, "failed": 3, "cancelled": 3}
_MAX_DEPTH = 4  # dicts deeper than this merge as one value


@dataclass
class MergeReport:
    """What came in from the other process (for logs, and for a GUI to refresh what it shows)."""

    scenes_added: list[str] = field(default_factory=list)
    scenes_removed: list[str] = field(default_factory=list)
    scenes_kept: list[str] = field(default_factory=list)  # deleted there but changed here: kept
    fields_taken: list[str] = field(default_factory=list)  # "name", "scene ab12.prompt", ...
    takes_added: list[str] = field(default_factory=list)
    takes_updated: list[str] = field(default_factory=list)
    ledger_added: int = 0
    reordered: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.scenes_added or self.scenes_removed or self.fields_taken or self.takes_added
                    or self.takes_updated or self.ledger_added or self.reordered)


def as_doc(model: BaseModel) -> dict:
    """A model as the JSON values its file holds (the form base and theirs are in)."""
    return json.loads(model.model_dump_json())


def _same(a: Any, b: Any) -> bool:
    try:
        return a == b
    except RecursionError:  # absurdly deep values: treat as different, so ours is kept
        return False


def three_way(base: Any, ours: Any, theirs: Any, depth: int = 0) -> Any:
    """The merged value; _MISSING where the key should not exist."""
    if _same(ours, theirs):
        return ours
    if _same(ours, base):
        return theirs
    if _same(theirs, base):
        return ours
    if isinstance(ours, dict) and isinstance(theirs, dict) and depth < _MAX_DEPTH:
        b = base if isinstance(base, dict) else {}
        merged = {}
        for key in list(ours) + [k for k in theirs if k not in ours]:
            value = three_way(b.get(key, _MISSING), ours.get(key, _MISSING), theirs.get(key, _MISSING), depth + 1)
            if value is not _MISSING:
                merged[key] = value
        return merged
    return ours  # both changed it: this process's value wins


def _merge_fields(obj: BaseModel, skip: set[str], base: dict, ours: dict, theirs: dict, label: str,
                  report: MergeReport) -> None:
    for name in type(obj).model_fields:
        if name in skip or name not in theirs:
            continue
        merged = three_way(base.get(name, _MISSING), ours.get(name, _MISSING), theirs[name])
        if merged is _MISSING or _same(merged, ours.get(name, _MISSING)):
            continue
        try:
            setattr(obj, name, merged)  # validate_assignment turns the JSON value back into the field's type
        except (ValidationError, ValueError) as exc:
            log.warning("merge: kept this process's %s%s (theirs does not fit: %s)", label, name, exc)
            continue
        report.fields_taken.append(f"{label}{name}")


def _weave(spine: list[str], other: list[str], extra: list[str]) -> list[str]:
    """`spine` with the ids of `extra` inserted after their nearest predecessor in `other` (or first)."""
    result = list(spine)
    present = set(result)
    where = {xid: i for i, xid in enumerate(other)}
    for xid in extra:
        at = 0
        for prev in reversed(other[:where[xid]]):
            if prev in present:
                at = result.index(prev) + 1
                break
        result.insert(at, xid)
        present.add(xid)
    return result


def _order(base_ids: list[str], ours_ids: list[str], theirs_ids: list[str], keep: set[str]) -> tuple[list[str], bool]:
    """The merged order of the kept ids, and whether it follows theirs (they reordered, we did not)."""
    ours_set, theirs_set = set(ours_ids), set(theirs_ids)
    common = [i for i in base_ids if i in ours_set and i in theirs_set]
    common_set = set(common)
    ours_common = [i for i in ours_ids if i in common_set]
    theirs_common = [i for i in theirs_ids if i in common_set]
    follow_theirs = ours_common == common and theirs_common != common
    if follow_theirs:
        spine = [i for i in theirs_ids if i in keep]
        taken = set(spine)
        extra = [i for i in ours_ids if i in keep and i not in taken]
        return _weave(spine, ours_ids, extra), True
    spine = [i for i in ours_ids if i in keep]
    taken = set(spine)
    extra = [i for i in theirs_ids if i in keep and i not in taken]
    return _weave(spine, theirs_ids, extra), False


def _merge_take(take: Take, base: Optional[dict], ours: dict, theirs: dict, report: MergeReport) -> None:
    if _same(ours, theirs):
        return
    rank_o, rank_t = _STATUS_RANK.get(ours.get("status"), 0), _STATUS_RANK.get(theirs.get("status"), 0)
    take_theirs = rank_t > rank_o or (rank_t == rank_o and base is not None and _same(ours, base))
    if take_theirs:
        for name in type(take).model_fields:
            if name in theirs and not _same(theirs[name], ours.get(name, _MISSING)):
                setattr(take, name, theirs[name])
        report.takes_updated.append(take.id)
    job = ours.get("remote_job_id") or theirs.get("remote_job_id")
    if job and not take.remote_job_id:
        take.remote_job_id = job  # a paid job's id is never dropped


def _merge_scene(scene: Scene, base: Optional[dict], ours: dict, theirs: dict, report: MergeReport) -> None:
    if _same(ours, theirs):
        return  # most scenes of a big project: nothing to do
    b = base or {}
    # image takes by id, before the fields (a chosen image take id must name one): a paid image is never dropped
    have, had = {t.id for t in scene.image_takes}, {t["id"] for t in b.get("image_takes", [])}
    for t in theirs.get("image_takes", []):
        if t["id"] not in have and t["id"] not in had:
            scene.image_takes.append(ImageTake.model_validate(t))
            report.takes_added.append(t["id"])
    _merge_fields(scene, _SCENE_OWN, b, ours, theirs, f"scene {scene.id}.", report)
    base_takes = {t["id"]: t for t in b.get("takes", [])}
    ours_takes = {t["id"]: t for t in ours.get("takes", [])}
    theirs_list = theirs.get("takes", [])
    for t in theirs_list:
        if t["id"] in ours_takes:
            _merge_take(scene.take(t["id"]), base_takes.get(t["id"]), ours_takes[t["id"]], t, report)
    new = [t["id"] for t in theirs_list if t["id"] not in ours_takes]
    if new:
        by_id = {t["id"]: t for t in theirs_list}
        order = _weave([t.id for t in scene.takes], [t["id"] for t in theirs_list], new)
        for i, tid in enumerate(order):  # in place: the queue holds this list and its Take objects
            if tid in by_id and tid in new:
                scene.takes.insert(i, Take.model_validate(by_id[tid]))
                report.takes_added.append(tid)
    sel = three_way(b.get("selected_take_id", _MISSING), ours.get("selected_take_id"),
                    theirs.get("selected_take_id"))
    if sel is not _MISSING and sel != scene.selected_take_id and (sel is None or any(t.id == sel for t in scene.takes)):
        scene.selected_take_id = sel
        report.fields_taken.append(f"scene {scene.id}.selected_take_id")


def _merge_scenes(project: VideoProject, base: dict, ours: dict, theirs: dict, report: MergeReport) -> None:
    base_s = {s["id"]: s for s in base.get("scenes", [])}
    ours_s = {s["id"]: s for s in ours["scenes"]}
    theirs_s = {s["id"]: s for s in theirs.get("scenes", [])}
    objects = {s.id: s for s in project.scenes}
    keep: set[str] = set()
    for sid in ours_s:
        if sid in theirs_s:
            keep.add(sid)
            _merge_scene(objects[sid], base_s.get(sid), ours_s[sid], theirs_s[sid], report)
        elif sid not in base_s:
            keep.add(sid)  # ours, new
        elif not _same(ours_s[sid], base_s[sid]):
            keep.add(sid)  # deleted there, changed here (a take may have been paid for): kept
            report.scenes_kept.append(sid)
        else:
            report.scenes_removed.append(sid)
    for sid, doc in theirs_s.items():
        if sid in ours_s:
            continue
        if sid in base_s and _same(doc, base_s[sid]):
            continue  # we deleted it and they did not touch it
        objects[sid] = Scene.model_validate(doc)
        keep.add(sid)
        report.scenes_added.append(sid)
    order, followed = _order(list(base_s), list(ours_s), list(theirs_s), keep)
    before = [s.id for s in project.scenes if s.id in keep]
    report.reordered = followed and before != [sid for sid in order if sid in ours_s]
    project.scenes[:] = [objects[sid] for sid in order]  # slice assignment: the list object stays the same


def _merge_ledger(project: VideoProject, ours: dict, theirs: dict, report: MergeReport) -> None:
    def key(entry: dict) -> str:
        return json.dumps(entry, sort_keys=True)

    have = {key(e) for e in ours.get("ledger", [])}
    for entry in theirs.get("ledger", []):
        k = key(entry)
        if k not in have:
            have.add(k)
            project.ledger.append(LedgerEntry.model_validate(entry))
            report.ledger_added += 1


def merge_into(project: VideoProject, base: Optional[dict], theirs: dict) -> MergeReport:
    """Merge `theirs` (a validated project as JSON values) into `project` in place, relative to `base`."""
    report = MergeReport()
    base = base or {}
    ours = as_doc(project)
    _merge_fields(project, _PROJECT_OWN, base, ours, theirs, "", report)
    _merge_scenes(project, base, ours, theirs, report)
    _merge_ledger(project, ours, theirs, report)
    return report
