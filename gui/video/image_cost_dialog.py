"""The cost confirmation of an image run above the cost threshold, as for video: the total, what each scene gets
and costs, every adjustment and ignored setting; Cancel is the default. The dialog holds the very plan that runs."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QVBoxLayout, QWidget

from core.images.takes import ImageRunPlan


def item_line(item) -> str:
    p = item.plan
    return (f"scene {item.index}: {len(item.take_ids)} x {p.model} {p.width}x{p.height}, "
            f"${p.cost_per_image:.3f} each, ${item.cost:.2f}")


class ImageCostDialog(QDialog):
    def __init__(self, plan: ImageRunPlan, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("imageCostDialog")
        self.setWindowTitle("Confirm image cost")
        self.plan = plan
        self.header = QLabel(f"{plan.images} image(s) for {len(plan.items)} scene(s) from {plan.provider} will cost "
                             f"about <b>${plan.total_cost:.2f}</b>.")
        self.scenes = QListWidget(objectName="imageCostScenes")
        self.scenes.addItems([item_line(i) for i in plan.items])
        notes = plan.notes()
        self.notes = QListWidget(objectName="imageCostNotes")
        self.notes.setWordWrap(True)
        self.notes.addItems(notes)
        self.notes.setVisible(bool(notes))
        buttons = QDialogButtonBox()
        self.start_button = buttons.addButton(f"Generate (${plan.total_cost:.2f})", QDialogButtonBox.AcceptRole)
        self.cancel_button = buttons.addButton("Cancel", QDialogButtonBox.RejectRole)
        self.cancel_button.setDefault(True)  # Enter does not spend money
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.header)
        lay.addWidget(self.scenes, 1)
        lay.addWidget(QLabel("Adjusted or ignored before anything is spent:" if notes else
                             "Every setting is sent as chosen."))
        lay.addWidget(self.notes, 1)
        lay.addWidget(buttons)
        self.setWindowModality(Qt.WindowModal)
        self.resize(600, 380)

    def text(self) -> str:
        lines = [self.header.text().replace("<b>", "").replace("</b>", "")]
        lines += [self.scenes.item(i).text() for i in range(self.scenes.count())]
        lines += [self.notes.item(i).text() for i in range(self.notes.count())]
        return "\n".join(lines)
