"""Combo boxes that fit a narrow side panel: their width no longer follows their longest item (a sensible minimum,
then the room the layout gives), the current text is elided ("Model default (LTX-2 Fa…") instead of cut, and the
tooltip of an elided combo shows the whole text (before the combo's own tooltip)."""
from __future__ import annotations

from typing import Iterable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox, QStylePainter, QToolTip

MIN_CHARS = 10  # the narrowest a fitted combo gets: about ten characters and the arrow


def fit(combos: Iterable[QComboBox], min_chars: int = MIN_CHARS) -> None:
    for combo in combos:
        if combo.property("fitted") or combo.isEditable():
            continue
        combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(min_chars)
        combo.installEventFilter(_ELIDER)
        combo.setProperty("fitted", True)


def _options(combo: QComboBox) -> tuple[QStyleOptionComboBox, int]:
    opt = QStyleOptionComboBox()
    combo.initStyleOption(opt)
    field = combo.style().subControlRect(QStyle.CC_ComboBox, opt, QStyle.SC_ComboBoxEditField, combo)
    room = field.width() - (opt.iconSize.width() + 4 if not opt.currentIcon.isNull() else 0) - 4
    return opt, room


def shown_text(combo: QComboBox) -> str:
    """The current text as painted: elided when it does not fit."""
    opt, room = _options(combo)
    return combo.fontMetrics().elidedText(opt.currentText, Qt.ElideRight, room)


def is_elided(combo: QComboBox) -> bool:
    return shown_text(combo) != combo.currentText()


def tooltip(combo: QComboBox) -> str:
    """What hovering shows: the whole text when it is elided, then the combo's own tooltip."""
    own = combo.toolTip()
    if not is_elided(combo):
        return own
    return combo.currentText() + (f"\n\n{own}" if own else "")


class _Elider(QObject):
    def eventFilter(self, combo, event) -> bool:
        if not isinstance(combo, QComboBox):
            return False
        if event.type() == QEvent.Paint:
            opt, room = _options(combo)
            painter = QStylePainter(combo)
            painter.drawComplexControl(QStyle.CC_ComboBox, opt)
            opt.currentText = combo.fontMetrics().elidedText(opt.currentText, Qt.ElideRight, room)
            painter.drawControl(QStyle.CE_ComboBoxLabel, opt)
            painter.end()
            return True
        if event.type() == QEvent.ToolTip and is_elided(combo):
            QToolTip.showText(event.globalPos(), tooltip(combo), combo)
            return True
        return False


_ELIDER = _Elider()
