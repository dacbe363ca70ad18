"""Small helpers for combo boxes whose items carry ids and can be disabled with a reason (never hidden or faked)."""
from __future__ import annotations

from typing import Any, Iterable, Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox


def fill(combo: QComboBox, items: Iterable[tuple[str, Any, Optional[str]]], keep: Any = None,
         allow_disabled: bool = False) -> None:
    """Replace the items: (label, data, reason) where a reason disables the item and becomes its tooltip.
    Selects `keep` when it is an enabled item (or any item, with allow_disabled), else the first enabled one."""
    blocked = combo.blockSignals(True)
    combo.clear()
    for label, data, reason in items:
        combo.addItem(label, data)
        if reason:
            set_enabled(combo, combo.count() - 1, False, reason)
    combo.blockSignals(blocked)
    select(combo, keep, allow_disabled)


def set_enabled(combo: QComboBox, index: int, enabled: bool, reason: str = "") -> None:
    model = combo.model()
    if isinstance(model, QStandardItemModel):
        item = model.item(index)
        if item is not None:
            item.setEnabled(enabled)
            item.setToolTip("" if enabled else reason)


def is_enabled(combo: QComboBox, index: int) -> bool:
    model = combo.model()
    if isinstance(model, QStandardItemModel):
        item = model.item(index)
        return item is not None and item.isEnabled()
    return True


def reason(combo: QComboBox, index: int) -> str:
    return combo.itemData(index, Qt.ToolTipRole) or ""


def select(combo: QComboBox, data: Any, allow_disabled: bool = False) -> bool:
    """Select the enabled item with this data, else the first enabled item. Returns whether `data` was chosen.
    With allow_disabled a disabled item is selected too (to show a saved value truthfully). Emits no signals."""
    blocked = combo.blockSignals(True)
    try:
        index = combo.findData(data) if data is not None else -1
        if index >= 0 and (allow_disabled or is_enabled(combo, index)):
            combo.setCurrentIndex(index)
            return True
        for i in range(combo.count()):
            if is_enabled(combo, i):
                combo.setCurrentIndex(i)
                return False
        combo.setCurrentIndex(-1)
        return False
    finally:
        combo.blockSignals(blocked)


def enabled_data(combo: QComboBox) -> list[Any]:
    return [combo.itemData(i) for i in range(combo.count()) if is_enabled(combo, i)]


def id_combo(choices: dict[str, str], object_name: str = "") -> QComboBox:
    """A combo listing {id: label} choices, each item carrying its id as data."""
    combo = QComboBox(objectName=object_name) if object_name else QComboBox()
    for item_id, label in choices.items():
        combo.addItem(label, item_id)
    return combo
