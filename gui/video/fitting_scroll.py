"""A vertical scroll area that is never narrower than its content: a side panel (the project's settings, the scene
inspector) scrolls up and down but is never cut off at the right edge, also when a group inside it grows (the LTX
group appearing). `widest` caps that minimum, so one over-wide group cannot push the window past the screen (it is
then cut off instead, which its screenshot shows)."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtWidgets import QScrollArea, QWidget


class FittingScrollArea(QScrollArea):
    def __init__(self, content: QWidget, object_name: str = "", widest: int = 480, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.widest = widest
        if object_name:
            self.setObjectName(object_name)
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        content.installEventFilter(self)

    def minimumSizeHint(self) -> QSize:
        content = self.widget()
        extra = self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth()
        width = (content.minimumSizeHint().width() if content is not None else 0) + extra
        return QSize(min(width, self.widest), super().minimumSizeHint().height())

    def eventFilter(self, watched, event) -> bool:
        if watched is self.widget() and event.type() == QEvent.LayoutRequest:
            self.updateGeometry()  # the content's minimum width may have changed
        return super().eventFilter(watched, event)
