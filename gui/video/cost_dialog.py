"""The cost confirmation: before a render above the cost threshold spends anything, the user reads the total, what
each scene renders and costs, and every adjustment and ignored setting of the plan, then starts or cancels. The
dialog holds the very plan the run will use."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout,
                               QWidget)

from core.render.events import RunPlan
from gui.video.plan_notes import item_line, run_notes


class CostDialog(QDialog):
    def __init__(self, plan: RunPlan, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("costConfirmDialog")
        self.setWindowTitle("Confirm render cost")
        self.plan = plan
        todo = plan.to_render
        self.header = QLabel(f"Rendering {len(todo)} scene(s) will cost about <b>${plan.total_cost:.2f}</b>.",
                             objectName="costConfirmHeader")
        self.scenes = QListWidget(objectName="costConfirmScenes")
        for item in plan.items:
            self.scenes.addItem(item_line(item))
        notes = run_notes(plan)
        self.notes_label = QLabel("Adjusted or ignored before anything is spent:" if notes else
                                  "Every setting is sent as chosen.")
        self.notes = QListWidget(objectName="costConfirmNotes")
        self.notes.setWordWrap(True)
        for note in notes:
            entry = QListWidgetItem(note)
            entry.setToolTip(note)
            self.notes.addItem(entry)
        self.notes.setVisible(bool(notes))
        buttons = QDialogButtonBox()
        self.start_button = buttons.addButton(f"Render (${plan.total_cost:.2f})", QDialogButtonBox.AcceptRole)
        self.start_button.setObjectName("costConfirmStart")
        self.cancel_button = buttons.addButton("Cancel", QDialogButtonBox.RejectRole)
        self.cancel_button.setObjectName("costConfirmCancel")
        self.cancel_button.setDefault(True)  # Enter does not spend money
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.header)
        lay.addWidget(self.scenes, 1)
        lay.addWidget(self.notes_label)
        lay.addWidget(self.notes, 2)
        lay.addWidget(QLabel("Start the render?"))
        lay.addWidget(buttons)
        self.setWindowModality(Qt.WindowModal)
        self.resize(640, 420)

    def text(self) -> str:
        """Everything the dialog says, as plain text (what a user reads)."""
        lines = [self.header.text().replace("<b>", "").replace("</b>", "")]
        lines += [self.scenes.item(i).text() for i in range(self.scenes.count())]
        lines.append(self.notes_label.text())
        lines += [self.notes.item(i).text() for i in range(self.notes.count())]
        return "\n".join(lines)
