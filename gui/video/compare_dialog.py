"""Compare…: render one scene with two providers as two takes of that scene, then play them side by side, write the
side-by-side video and show the facts of each take; the user keeps either.

The same comparison as `python main.py compare --project DIR --scene N --providers A,B`
(core/video/compare_takes.py, run by gui/video/compare_runner.py): both sides are planned first (off the GUI
thread; no network, no money), both costs are shown in the cost confirmation, and only a confirmed plan is run. A
comparison that was interrupted continues where it stopped (a side already paid for is followed, never paid again).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QProgressBar, QPushButton, QSplitter, QVBoxLayout, QWidget)

from core.config import Settings
from core.errors import ImageAIError
from core.render.events import RenderEvent
from core.video.compare_takes import default_output, parse_specs
from core.video.scene_edits import SelectTake
from gui.async_runner import AsyncRunner
from gui.video import combo_utils
from gui.video.compare_runner import CompareRunner, RunOutcome
from gui.video.compare_view import FactsTable, TakeColumn
from gui.video.cost_dialog import CostDialog
from gui.video.plan_notes import item_line, problem_lines
from gui.video.project_session import ProjectSession
from gui.video.provider_info import LTX, ProviderInfo

PREFERRED = ("veo", LTX)  # the first side offers Veo, the second LTX-Video, where they can run


class CompareDialog(QDialog):
    #: the cost confirmation waits for the user: the CostDialog
    confirmation_requested = Signal(object)
    #: the comparison ended: a RunOutcome (its result holds the facts and the side-by-side file)
    compared = Signal(object)
    problem = Signal(str)

    def __init__(self, session: ProjectSession, runner: AsyncRunner, settings: Settings, info: ProviderInfo,
                 scene_id: Optional[str] = None, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("compareDialog")
        self.setWindowTitle("Compare two providers on one scene")
        self.session, self.settings, self.info = session, settings, info
        self.runner = CompareRunner(session, runner, settings, self)
        self.cost_dialog: Optional[CostDialog] = None
        self.outcome: Optional[RunOutcome] = None
        self._output_chosen = False
        self._build()
        self._fill(scene_id)
        self.runner.planned.connect(self._on_planned)
        self.runner.event.connect(self._on_event)
        self.runner.finished.connect(self._on_finished)
        self.runner.waiting.connect(self.status.setText)
        self.resize(1200, 760)

    # --- layout ---------------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.scene = QComboBox(objectName="compareScene")
        self.side_a = QComboBox(objectName="compareSideA")
        self.side_b = QComboBox(objectName="compareSideB")
        for combo in (self.scene, self.side_a, self.side_b):
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(30)
        self.output = QLineEdit(objectName="compareOutput")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        out_row = QHBoxLayout()
        out_row.addWidget(self.output, 1)
        out_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Scene:", self.scene)
        form.addRow("Take 1:", self.side_a)
        form.addRow("Take 2:", self.side_b)
        form.addRow("Side-by-side file:", out_row)
        self.render_button = QPushButton("Render both…", objectName="compareRender")
        self.render_button.setToolTip("Plans both takes (nothing is spent), shows both costs, and renders once "
                                      "you confirm")
        self.cancel_button = QPushButton("Cancel render", objectName="compareCancel", enabled=False)
        self.play_button = QPushButton("Play both", objectName="comparePlayBoth", enabled=False)
        self.close_button = QPushButton("Close")
        self.progress = [QProgressBar(objectName=f"compareProgress{i}") for i in (1, 2)]
        buttons = QHBoxLayout()
        buttons.addWidget(self.render_button)
        buttons.addWidget(self.cancel_button)
        for bar in self.progress:
            bar.setRange(0, 1000)
            bar.setMaximumWidth(180)
            buttons.addWidget(bar)
        buttons.addStretch(1)
        buttons.addWidget(self.play_button)
        buttons.addWidget(self.close_button)
        self.status = QLabel("Choose the scene and two providers, then Render both.", objectName="compareStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)

        self.columns = [TakeColumn(1), TakeColumn(2)]
        self.facts = FactsTable()
        players = QSplitter(Qt.Horizontal)
        for col in self.columns:
            players.addWidget(col)
            col.keep_requested.connect(self.keep)
        body = QSplitter(Qt.Vertical)
        body.addWidget(players)
        body.addWidget(self.facts)
        body.setStretchFactor(0, 3)
        body.setStretchFactor(1, 2)
        body.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.status)
        lay.addWidget(body, 1)

        self.render_button.clicked.connect(self.render_both)
        self.cancel_button.clicked.connect(self.runner.cancel)
        self.play_button.clicked.connect(self.play_both)
        self.close_button.clicked.connect(self.reject)
        self.scene.currentIndexChanged.connect(self._default_output)
        self.output.textEdited.connect(lambda _: setattr(self, "_output_chosen", True))

    def _fill(self, scene_id: Optional[str]) -> None:
        scenes = self.session.project.scenes
        for i, s in enumerate(scenes, 1):
            text = s.title or s.prompt
            self.scene.addItem(f"{i}: {text[:60]}", s.id)
        combo_utils.select(self.scene, scene_id)
        items = self._offer_items()
        for combo, wanted in ((self.side_a, PREFERRED[0]), (self.side_b, PREFERRED[1])):
            first = next((data for _, data, why in items if why is None and data.startswith(wanted + ":")), None)
            combo_utils.fill(combo, items, first)
        if self.side_a.currentData() == self.side_b.currentData():  # neither preferred provider can run here
            enabled = [d for d in combo_utils.enabled_data(self.side_b) if d != self.side_a.currentData()]
            combo_utils.select(self.side_b, enabled[0] if enabled else None)
        self._default_output()

    def _offer_items(self) -> list[tuple[str, str, Optional[str]]]:
        """Every model of every provider, as "provider:model@deployment" (compare_takes' spec), those that cannot
        run here greyed out with the reason."""
        deployments = self.info.deployment_status() if self.info.status(LTX) is not None else {}
        items = []
        for o in self.info.offers():
            status = self.info.status(o.provider)
            why = None if status is not None and status.available else (status.reason if status else "unknown")
            if why is None and o.deployment is not None:
                why = deployments.get(o.deployment)
            spec = f"{o.provider}:{o.model.id}" + (f"@{o.deployment}" if o.deployment else "")
            items.append((f"{o.provider_label}: {o.label}", spec, why))
        return items

    def _default_output(self) -> None:
        if not self._output_chosen and self.scene.currentIndex() >= 0:
            self.output.setText(str(default_output(self.session.store, self.scene.currentIndex() + 1)))

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Side-by-side video", self.output.text(), "MP4 video (*.mp4)")
        if path:
            self.output.setText(path)
            self._output_chosen = True

    # --- planning and the cost confirmation -----------------------------------------------------------------
    def render_both(self) -> bool:
        """Plan both takes off the GUI thread; the confirmation follows. Returns whether planning started."""
        if self.runner.is_busy() or self.cost_dialog is not None:
            return False
        try:
            specs = parse_specs(f"{self.side_a.currentData()},{self.side_b.currentData()}")
        except ImageAIError as exc:
            self._say_problem("; ".join(problem_lines(exc)))
            return False
        self._set_busy(True)
        self.status.setText("Planning both takes (nothing is spent)…")
        self.runner.plan(self.scene.currentIndex() + 1, specs)
        return True

    def _on_planned(self, sides) -> None:
        if isinstance(sides, BaseException):
            self._set_busy(False)
            self._say_problem("Cannot compare: " + "; ".join(problem_lines(sides)))
            return
        lines = [f"take {n}: " + item_line(s.item).split(": ", 1)[1] for n, s in enumerate(sides, 1)]
        self.status.setText("; ".join(lines))
        comparison = self.runner.comparison
        if not comparison.renders_new:  # both sides were paid for before: followed, nothing new is spent
            self._start()
            return
        dialog = CostDialog(self.runner.run_plan(), self)
        dialog.setWindowTitle("Confirm comparison cost")
        dialog.header.setText(f"Rendering scene {comparison.number} with two providers will cost about "
                              f"<b>${comparison.new_cost:.2f}</b> (both takes).")
        for i in range(dialog.scenes.count()):  # one line per take of the one scene
            entry = dialog.scenes.item(i)
            entry.setText(f"take {i + 1}, {entry.text()}")
        self.cost_dialog = dialog
        dialog.ask(self._answered)
        self.confirmation_requested.emit(dialog)

    def _answered(self, dialog: CostDialog, accepted: bool) -> None:
        self.cost_dialog = None
        if accepted:
            self._start()
            return
        self._set_busy(False)
        self.status.setText(f"Not rendered: nothing was spent (estimated ${dialog.plan.total_cost:.2f})")

    # --- running --------------------------------------------------------------------------------------------
    def _start(self) -> None:
        for bar in self.progress:
            bar.setValue(0)
        self.cancel_button.setEnabled(True)
        self.status.setText("Rendering both takes…")
        self.runner.start(self.output_path())

    def output_path(self) -> Path:
        """The side-by-side file: a relative path is inside the project folder; empty is the default one."""
        text = self.output.text().strip()
        if not text:
            return default_output(self.session.store, self.runner.comparison.number)
        path = Path(text).expanduser()
        return path if path.is_absolute() else self.session.store.folder / path

    def _on_event(self, side: int, event: RenderEvent) -> None:
        bar = self.progress[side - 1]
        if event.kind == "progress" and event.fraction is not None:
            bar.setValue(max(bar.value(), int(min(event.fraction, 0.99) * 1000)))
        elif event.kind in ("done", "failed", "cancelled", "skipped"):
            bar.setValue(1000)
            self.session.scene_changed.emit(event.scene_id)  # the table shows the new take
        if event.kind not in ("progress", "log") and event.message:
            self.status.setText(f"Take {side}: {event.kind} {event.message}")

    def _on_finished(self, outcome: RunOutcome) -> None:
        self.outcome = outcome
        self._set_busy(False)
        self.cancel_button.setEnabled(False)
        comparison = self.runner.comparison
        if comparison is not None:
            self.session.scene_changed.emit(comparison.scene.id)
        if outcome.error is not None:
            self._say_problem(f"The comparison stopped: {outcome.error}")
        elif outcome.failed:
            self._say_problem("; ".join(f"take {tid} " + ("was cancelled" if m == "cancelled" else f"failed: {m}")
                                        for tid, m in outcome.failed.items()))
            self._show_takes(outcome.facts)  # the take that finished can still be watched and kept
        else:
            self._show_result()
        self.compared.emit(outcome)

    def _show_takes(self, rows) -> None:
        store = self.session.store
        for col, row in zip(self.columns, rows):
            title = f"Take {row.side}: {row.provider}" + (f" / {row.model}" if row.model else "") + \
                ("" if row.clip else f" ({row.status})")
            col.show_take(title, row.take_id, str(store.resolve(row.clip)) if row.clip else None)
        self.facts.show_facts(rows)
        self._show_kept()
        self.play_button.setEnabled(any(row.clip for row in rows))

    def _show_result(self) -> None:
        result = self.outcome.result
        self._show_takes(result.takes)
        self.status.setText(f"Wrote {result.output} (total ${result.total_cost:.2f}). Keep either take; the scene "
                            "keeps the take it had chosen until you do.")
        self.play_both()

    def play_both(self) -> None:
        for col in self.columns:
            col.play()

    # --- keeping a take -------------------------------------------------------------------------------------
    def keep(self, take_id: str) -> None:
        scene_id = self.runner.comparison.scene.id
        try:
            self.session.apply(SelectTake(scene_id, take_id))
        except ImageAIError as exc:
            self._say_problem(str(exc))
        self._show_kept()

    def _show_kept(self) -> None:
        chosen = self.session.project.scene(self.runner.comparison.scene.id).selected_take_id
        for col in self.columns:
            col.set_kept(col.take_id is not None and col.take_id == chosen)

    # --- small helpers --------------------------------------------------------------------------------------
    def _set_busy(self, busy: bool) -> None:
        for w in (self.render_button, self.scene, self.side_a, self.side_b, self.output):
            w.setEnabled(not busy)
        self.close_button.setEnabled(not busy)

    def _say_problem(self, text: str) -> None:
        self.status.setText(f"<span style='color:#c62828'>{_html(text)}</span>")
        self.problem.emit(text)

    def reject(self) -> None:
        if self.runner.is_busy():  # a paid render runs: cancel it first (Cancel render)
            return
        for col in self.columns:
            col.preview.stop()
        super().reject()


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
