"""The Local GPU page: the model folder (ltx_local_path), the device (only what this machine has, plus the CPU),
how long an idle worker stays warm, and a camera LoRA file per camera motion (ltx_camera_loras).

Looking for a GPU imports torch (seconds): the page shows the answer the window already has, else it asks on a worker
thread (torch imported in a child process, with a time limit, so the check always ends with an answer) the first time
the page is shown; until it answers the list offers Automatic, the CPU and the saved choice."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QVBoxLayout, \
    QWidget

from core.config import Settings
from gui.settings.fields import browse_row, path_problem
from providers.ltx.camera import CAMERA_LORAS
from providers.ltx.local_models import folder_family

AUTO = "Automatic (the GPU found; never the CPU)"
CPU = "CPU (very slow)"


def _folder_check(path: Path) -> Optional[str]:
    if folder_family(path) is None:
        return f"Model folder: {path} holds no diffusers LTX pipeline (model_index.json)"
    return None


def _default_detector(settings: Settings) -> Callable[[], object]:
    from gui.video.provider_info import ProviderInfo

    return ProviderInfo(settings).detect_local_device


def _lora_check(path: Path) -> Optional[str]:
    return None if path.suffix == ".safetensors" else f"{path} is not a .safetensors file"


class LocalPage(QWidget):
    title = "Local GPU"
    device_checked = Signal()
    _device_found = Signal(object)

    def __init__(self, settings: Settings, device=None, detector: Optional[Callable[[], object]] = None) -> None:
        """`device`: the window's GPU check's answer when it has one (an Accelerator, or why there is none);
        `detector` makes the check otherwise (by default the window's own: torch in a child process)."""
        super().__init__()
        self._saved_device = settings.ltx_local_device
        self._checking = False
        self.answer = device  # the GPU check's answer once known
        self._detector = detector or _default_detector(settings)
        self._device_found.connect(self._on_device_found)
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.folder = QLineEdit(settings.ltx_local_path or "", objectName="setting_ltx_local_path")
        self.folder.setPlaceholderText("none: the model's Hugging Face repository (downloaded once)")
        form.addRow("Model folder:", browse_row(self.folder, self, "LTX model folder (diffusers)", folder=True))
        self.device = QComboBox(objectName="setting_ltx_local_device")
        self.device_note = QLabel("")
        self.device_note.setWordWrap(True)
        self._fill_devices(device)
        form.addRow("Device:", self.device)
        form.addRow("", self.device_note)
        self.idle = QDoubleSpinBox(objectName="setting_ltx_local_idle_s", maximum=86_400, decimals=0, suffix=" s")
        self.idle.setSpecialValueText("end after each run")
        self.idle.setValue(settings.ltx_local_idle_s)
        self.idle.setToolTip("A warm local worker keeps the model in memory; it ends after this long unused and "
                             "frees the GPU")
        form.addRow("Keep an idle worker for:", self.idle)
        lay.addLayout(form)
        box = QGroupBox("Camera LoRAs (used for a scene's camera motion; without one the prompt names the motion)")
        loras = QFormLayout(box)
        self.loras: dict[str, QLineEdit] = {}
        for motion, lightricks in CAMERA_LORAS.items():
            if motion == "none":
                continue
            edit = QLineEdit(settings.ltx_camera_loras.get(motion, ""), objectName=f"camera_lora_{motion}")
            edit.setPlaceholderText(f"Lightricks' {lightricks} LoRA" if lightricks else "a camera LoRA of your own")
            loras.addRow(f"{motion.replace('_', ' ')}:",
                         browse_row(edit, self, f"Camera LoRA for {motion}", filters="LoRA (*.safetensors)"))
            self.loras[motion] = edit
        self._other_loras = {k: v for k, v in settings.ltx_camera_loras.items() if k not in self.loras}
        lay.addWidget(box)
        lay.addStretch(1)

    # --- the device ----------------------------------------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.check_device()

    def check_device(self) -> None:
        """Look for a CUDA/MPS device on a worker thread (once, and not when the window's answer was handed in)."""
        if self._checking or self.answer is not None:
            return
        self._checking = True
        self.device_note.setText("Looking for a GPU (torch loads: a few seconds)…")
        threading.Thread(target=self._detect, name="settings-device-check", daemon=True).start()

    def _detect(self) -> None:
        try:
            result = self._detector()
        except Exception as exc:  # no torch, or a broken install: only the CPU is offered, and why
            result = f"{type(exc).__name__}: {exc}"
        try:
            self._device_found.emit(result)
        except RuntimeError:  # the dialog closed while torch loaded
            pass

    def _on_device_found(self, result) -> None:
        self.answer = result
        self._fill_devices(result)
        self.device_checked.emit()

    def _fill_devices(self, found) -> None:
        keep = self.device.currentData() if self.device.count() else self._saved_device
        self.device.clear()
        self.device.addItem(AUTO, None)
        if found is None:
            note = ""
        elif isinstance(found, str):
            note = (f"No GPU check possible — {found}; install the local GPU stack with "
                    f"`python main.py local install`.")
        elif found.kind in ("cuda", "mps"):
            self.device.addItem(f"{found.kind}: {found.name} ({found.memory_gb:g} GB)", found.kind)
            note = f"Found {found.name}, torch {found.torch_version}."
        else:
            note = (f"No CUDA or MPS device found (torch {found.torch_version}): Automatic cannot render here; "
                    f"choose the CPU (very slow) to render locally.")
        self.device.addItem(CPU, "cpu")
        if keep and self.device.findData(keep) < 0:
            # a saved choice this machine lacks stays visible (the settings may be shared with another machine)
            self.device.addItem(f"{keep} ({'not found here' if found is not None else 'checking…'})", keep)
        self.device.setCurrentIndex(max(0, self.device.findData(keep)))
        self.device_note.setText(note)

    # --- the page's values ---------------------------------------------------------------------------------------
    def problems(self) -> list[str]:
        out = [path_problem("Model folder", self.folder.text(), folder=True, check=_folder_check)]
        out += [path_problem(f"Camera LoRA {motion.replace('_', ' ')}", edit.text(), check=_lora_check)
                for motion, edit in self.loras.items()]
        return [p for p in out if p]

    def apply(self, data: dict) -> None:
        data["ltx_local_path"] = self.folder.text().strip() or None
        data["ltx_local_device"] = self.device.currentData()
        data["ltx_local_idle_s"] = float(self.idle.value())
        data["ltx_camera_loras"] = {**self._other_loras, **{m: e.text().strip() for m, e in self.loras.items()
                                                             if e.text().strip()}}
