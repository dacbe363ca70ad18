"""The Veo group: Veo's own settings (`render.options`: person generation, prompt enhancement), shown only when Veo
is chosen, plus a line on which inputs of the scene table and the reference images reach the chosen model.

The values each control offers come from the Veo catalog (providers/veo/catalog_data.py: person generation per
deployment and mode, reference images per model); the negative prompt is the Render Settings' own field (Veo takes
it on both deployments). An unset value is the service's default and is stored as nothing at all.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from gui.video import combo_utils
from providers.base import ModelInfo
from providers.veo import catalog
from providers.veo.catalog_data import PERSON_GENERATION, PERSON_VALUES

UNSET = ""  # a combo's data for "the default"
PERSON_LABELS = {"allow_all": "Allow all (adults and children)", "allow_adult": "Adults only",
                 "dont_allow": "No people"}
ENHANCE = {"on": True, "off": False}
#: which inputs make which mode (what the person-generation rules are keyed by)
MODE_WORDS = {"text-to-video": "prompt only", "image-to-video": "start frame", "first-last-frame":
              "start + end frame", "reference-images": "reference images", "extend": "extending a clip"}


class VeoGroup(QGroupBox):
    #: the user changed an option: {"options": {key: value or None (None removes it)}}
    edited = Signal(dict)

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__("Veo", parent)
        self.setObjectName("veoGroup")
        self._loading = False
        self.person = QComboBox(objectName="veoPersonCombo")
        self.enhance = QComboBox(objectName="veoEnhanceCombo")
        self.enhance.addItem("Service default", UNSET)
        self.enhance.addItem("On (the service rewrites the prompt)", "on")
        self.enhance.addItem("Off (the prompt is sent as written)", "off")
        self.enhance.setToolTip("Prompt enhancement: Veo may rewrite the prompt before rendering")
        for combo in (self.person, self.enhance):
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
        self.inputs = QLabel("", objectName="veoInputsNote", wordWrap=True)
        self.inputs.setStyleSheet("color:#555")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        form.addRow("People:", self.person)
        form.addRow("Enhance prompt:", self.enhance)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(form)
        lay.addWidget(self.inputs)
        self.person.currentIndexChanged.connect(
            lambda: self._emit(person_generation=self.person.currentData() or None))
        self.enhance.currentIndexChanged.connect(
            lambda: self._emit(enhance_prompt=ENHANCE.get(self.enhance.currentData())))

    # --- showing values and rules ---------------------------------------------------------------------------
    def show_model(self, model: Optional[ModelInfo], options: dict) -> None:
        """Fill the controls for the chosen Veo model (None: the default one) and show the saved options."""
        model_id = model.id if model is not None else catalog.default_model()
        deployment = catalog.deployment_of(model_id) if model_id in catalog.model_ids() else \
            catalog.DEPLOYMENTS[0]
        where = catalog.label_of(deployment)
        per_mode = PERSON_GENERATION[deployment]
        taken = {v for values in per_mode.values() for v in values}
        defaults = ", ".join(f"{values[0]} ({MODE_WORDS.get(mode, mode)})" for mode, values in per_mode.items())
        items = [("Default for each mode", UNSET, None)]
        for value in PERSON_VALUES:
            modes = [MODE_WORDS.get(m, m) for m, values in per_mode.items() if value in values]
            why = None if value in taken else f"{where} does not take {value}; the Vertex AI models do"
            label = PERSON_LABELS[value] + ("" if len(modes) == len(per_mode) or not modes else
                                            f" — {', '.join(modes)}")
            items.append((label, value, why))
        self._loading = True
        try:
            combo_utils.fill(self.person, items, options.get("person_generation") or UNSET, allow_disabled=True)
            enhance = options.get("enhance_prompt")
            combo_utils.select(self.enhance, {True: "on", False: "off"}.get(enhance, UNSET), allow_disabled=True)
        finally:
            self._loading = False
        self.person.setToolTip(f"Who may appear on {where}; each mode's default: {defaults}. A value a scene's "
                               "mode does not take is replaced by that mode's default (said beside the cost)")
        self.inputs.setText(inputs_text(model_id))
        self.inputs.setToolTip("A scene with a start frame (and an end frame) renders from them; a scene without "
                               "frames sends its own reference images first, then the project's")

    # --- user edits -----------------------------------------------------------------------------------------
    def _emit(self, **changes) -> None:
        if not self._loading:
            self.edited.emit({"options": changes})


def inputs_text(model_id: str) -> str:
    """What of the scene table's frames and the reference images this model uses (from the catalog), one line
    each (short: the group is narrow)."""
    e = catalog.entry(model_id)
    modes = e["modes"]
    if "first-last-frame" in modes:
        frames = "Frames: start and end (scene table)"
    elif "image-to-video" in modes:
        frames = "Frames: start only (scene table)"
    else:
        frames = "Frames: none"
    refs = int(e["max_reference_images"]) if "reference-images" in modes else 0
    if refs:
        rules = catalog.REFERENCE_RULES
        references = f"References: up to {refs} ({'/'.join(rules['aspect_ratios'])}, " \
                     f"{'/'.join(map(str, rules['durations']))} s, not with frames)"
    else:
        references = "References: none (this model takes no reference images)"
    return f"{frames}\n{references}"
