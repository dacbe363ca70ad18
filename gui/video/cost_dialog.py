"""The cost confirmation: before a run above the cost threshold spends anything, the user reads the total, what
each scene gets and costs, and every adjustment and ignored setting of the plan, then starts or cancels (Cancel is
the default). The dialog holds the very plan the run will use. One dialog serves renders and image runs."""
from __future__ import annotations

from typing import Callable, Optional, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout,
                               QWidget)

from core.render.events import RunPlan
from gui.video.plan_notes import item_line, run_notes


class CostConfirmDialog(QDialog):
    """The shared shape: a header with the total, one line per scene, the plan's notes, Start/Cancel buttons."""

    def __init__(self, plan, *, name: str, title: str, header: str, lines: Sequence[str], notes: Sequence[str],
                 start_text: str, question: str = "", parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName(f"{name}Dialog")
        self.setWindowTitle(title)
        self.plan = plan
        self.header = QLabel(header, objectName=f"{name}Header")
        self.scenes = QListWidget(objectName=f"{name}Scenes")
        self.scenes.addItems(list(lines))
        self.notes_label = QLabel("Adjusted or ignored before anything is spent:" if notes else
                                  "Every setting is sent as chosen.")
        self.notes = QListWidget(objectName=f"{name}Notes")
        self.notes.setWordWrap(True)
        for note in notes:
            entry = QListWidgetItem(note)
            entry.setToolTip(note)
            self.notes.addItem(entry)
        self.notes.setVisible(bool(notes))
        buttons = QDialogButtonBox()
        self.start_button = buttons.addButton(f"{start_text} (${plan.total_cost:.2f})", QDialogButtonBox.AcceptRole)
        self.start_button.setObjectName(f"{name}Start")
        self.cancel_button = buttons.addButton("Cancel", QDialogButtonBox.RejectRole)
        self.cancel_button.setObjectName(f"{name}Cancel")
        self.cancel_button.setDefault(True)  # Enter does not spend money
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.header)
        lay.addWidget(self.scenes, 1)
        lay.addWidget(self.notes_label)
        lay.addWidget(self.notes, 2)
        if question:
            lay.addWidget(QLabel(question))
        lay.addWidget(buttons)
        self.setWindowModality(Qt.WindowModal)
        self.resize(640, 420)

    def ask(self, answered: Callable[["CostConfirmDialog", bool], None]) -> None:
        """Open without a nested event loop; the answer deletes the dialog later and tells `answered` whether the
        user chose to start (any other close spends nothing)."""
        def finished(code: int) -> None:
            self.deleteLater()
            answered(self, code == QDialog.Accepted)
        self.finished.connect(finished)
        self.open()

    def text(self) -> str:
        """Everything the dialog says, as plain text (what a user reads)."""
        lines = [self.header.text().replace("<b>", "").replace("</b>", "")]
        lines += [self.scenes.item(i).text() for i in range(self.scenes.count())]
        lines.append(self.notes_label.text())
        lines += [self.notes.item(i).text() for i in range(self.notes.count())]
        return "\n".join(lines)


class CostDialog(CostConfirmDialog):
    """The confirmation of a render."""

    def __init__(self, plan: RunPlan, parent: Optional[QWidget] = None):
        super().__init__(plan, name="costConfirm", title="Confirm render cost",
                         header=f"Rendering {len(plan.to_render)} scene(s) will cost about "
                                f"<b>${plan.total_cost:.2f}</b>.",
                         lines=[item_line(item) for item in plan.items], notes=run_notes(plan),
                         start_text="Render", question="Start the render?", parent=parent)
