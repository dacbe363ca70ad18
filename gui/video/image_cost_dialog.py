"""The cost confirmation of an image run above the cost threshold: the shared CostConfirmDialog filled from the
ImageRunPlan (the total, what each scene gets and costs, every adjustment and ignored setting)."""
from __future__ import annotations

from typing import Optional

from PySide6.QtWidgets import QWidget

from core.images.takes import ImageRunPlan
from gui.video.cost_dialog import CostConfirmDialog


def item_line(item) -> str:
    p = item.plan
    return (f"scene {item.index}: {len(item.take_ids)} x {p.model} {p.width}x{p.height}, "
            f"${p.cost_per_image:.3f} each, ${item.cost:.2f}")


class ImageCostDialog(CostConfirmDialog):
    def __init__(self, plan: ImageRunPlan, parent: Optional[QWidget] = None):
        super().__init__(plan, name="imageCost", title="Confirm image cost",
                         header=f"{plan.images} image(s) for {len(plan.items)} scene(s) from {plan.provider} will "
                                f"cost about <b>${plan.total_cost:.2f}</b>.",
                         lines=[item_line(i) for i in plan.items], notes=plan.notes(),
                         start_text="Generate", parent=parent)
