"""The Rendering page: renders at once per provider (the render queue's keys: a provider's name, or the deployment
"local" / "comfyui"; "default" for every provider without its own), the cost confirmation threshold, autosave and
the project lock wait."""
from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QLabel, QSpinBox, QWidget

from core.config import Settings
from providers import registry

DEPLOYMENT_ROWS = (("local", "Local GPU (LTX-Video, local images)"), ("comfyui", "ComfyUI (all servers together)"))
NOTES = {"ltx-video": " (Fal / Replicate)"}


class RenderPage(QWidget):
    title = "Rendering"

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self._saved = dict(settings.render_concurrency)
        form = QFormLayout(self)
        head = QLabel("Renders at once:")
        head.setStyleSheet("font-weight:600")
        form.addRow(head)
        self.concurrency: dict[str, QSpinBox] = {}
        rows = [("default", "Any other provider")]
        rows += [(e.name, e.display_name + NOTES.get(e.name, "")) for e in registry.entries()]
        rows += list(DEPLOYMENT_ROWS)
        for key, label in rows:
            spin = QSpinBox(objectName=f"concurrency_{key}", minimum=1, maximum=16)
            spin.setValue(settings.concurrency_for(key))
            form.addRow(f"{label}:", spin)
            self.concurrency[key] = spin
        self.confirm = QDoubleSpinBox(objectName="setting_confirm_cost_above", maximum=10_000, prefix="$",
                                      decimals=2, singleStep=0.5)
        self.confirm.setValue(settings.confirm_cost_above)
        form.addRow("Ask before spending more than:", self.confirm)
        self.autosave = QSpinBox(objectName="setting_autosave_interval_s", maximum=3600, suffix=" s")
        self.autosave.setSpecialValueText("off")
        self.autosave.setValue(int(settings.autosave_interval_s))
        form.addRow("Autosave every:", self.autosave)
        self.lock_wait = QDoubleSpinBox(objectName="setting_project_lock_wait_s", maximum=600, decimals=0,
                                        suffix=" s")
        self.lock_wait.setValue(settings.project_lock_wait_s)
        self.lock_wait.setToolTip("How long a save or a render waits while another process (the CLI, another "
                                  "window) is saving or rendering the same project")
        form.addRow("Wait for another process up to:", self.lock_wait)

    def problems(self) -> list[str]:
        return []

    def apply(self, data: dict) -> None:
        default = self.concurrency["default"].value()
        out = dict(self._saved)
        for key, spin in self.concurrency.items():
            # a provider set like the default follows later changes of the default, unless it had its own value
            if key == "default" or key in self._saved or spin.value() != default:
                out[key] = spin.value()
        data["render_concurrency"] = out
        data["confirm_cost_above"] = self.confirm.value()
        data["autosave_interval_s"] = float(self.autosave.value())
        data["project_lock_wait_s"] = float(self.lock_wait.value())
