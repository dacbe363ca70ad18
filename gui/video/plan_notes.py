"""Words for a run plan, the same in the cost line, the cost confirmation and the scene table (Qt-free): what each
scene will render, what it costs, and every adjustment or ignored setting the plan made, read before anything is
spent."""
from __future__ import annotations

from typing import Optional

from core.render.events import PlanItem, RunPlan


def item_notes(item: PlanItem) -> list[str]:
    """The plan's adjustments and ignored settings of one scene, as sentences."""
    plan = item.plan
    if plan is None:  # a resumed take whose plan could not be made again
        return list(item.adjustments) + [f"ignored {i}" for i in item.ignored]
    return [a.reason for a in plan.adjustments] + [f"ignored {i.field}: {i.reason}" for i in plan.ignored]


def run_notes(plan: RunPlan) -> list[str]:
    """'scene 3: renders 6 s, the shortest … covers 4.2 s; the export cuts it to 4.2 s', for every scene rendered; a
    note that several scenes share is said once for all of them ('scenes 1–4, 6: ignored seed: …')."""
    scenes_of: dict[str, list[int]] = {}
    for item in plan.to_render:
        if not item.resume_take_id:
            for note in item_notes(item):
                scenes_of.setdefault(note, []).append(item.index)
    return [f"{scene_list(indexes)}: {note}" for note, indexes in scenes_of.items()]


def scene_list(indexes: list[int]) -> str:
    """[3] -> 'scene 3'; [1, 2, 3, 5] -> 'scenes 1–3, 5'."""
    if len(indexes) == 1:
        return f"scene {indexes[0]}"
    runs: list[list[int]] = []
    for i in sorted(set(indexes)):
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return "scenes " + ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs)


def what(item: PlanItem) -> str:
    """'ltx-2-fast on fal' / 'animatic'."""
    name = item.model or item.provider
    return f"{name} on {item.deployment}" if item.deployment else name


def item_line(item: PlanItem) -> str:
    """'scene 2: ltx-2-fast on fal, renders 6 s (cut to 4.2 s), $0.24'."""
    if item.skip_reason:
        return f"scene {item.index}: skipped, {item.skip_reason}"
    if item.resume_take_id:
        verb = "fetches the finished result of" if item.refetch else "follows"
        return f"scene {item.index}: {verb} job already paid for ({what(item)}), no new charge"
    length = ""
    if item.render_seconds:
        length = f", renders {item.render_seconds:g} s"
        if item.cut_seconds is not None and abs(item.cut_seconds - item.render_seconds) > 1e-6:
            length += f" (cut to {item.cut_seconds:g} s)"
    return f"scene {item.index}: {what(item)}{length}, ${item.estimated_cost:.2f}"


def summary_text(plan: RunPlan) -> str:
    todo = plan.to_render
    skipped = len(plan.items) - len(todo)
    text = f"Estimated cost: ${plan.total_cost:.2f} for {len(todo)} scene(s)"
    if skipped:
        text += f"; {skipped} already rendered with these settings"
    return text


def problem_lines(exc: BaseException) -> list[str]:
    """Every problem of a refused plan, one per line."""
    problems: Optional[list] = getattr(exc, "problems", None)
    return [str(p) for p in problems] if problems else [str(exc)]
