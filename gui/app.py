"""GUI entry point: `python main.py` with no arguments calls run_gui()."""
from __future__ import annotations

import logging
import sys
import time
from typing import Optional, Sequence

log = logging.getLogger("gui.app")
READY_MESSAGE = "window ready"  # logged once the event loop runs with the window shown (bench/gui_latency.py reads it)


def run_gui(argv: Optional[Sequence[str]] = None) -> int:
    started = time.perf_counter()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from core.logging_setup import setup_logging
    from gui.main_window import MainWindow

    setup_logging()
    app = QApplication.instance() or QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setApplicationName("ImageAI Video")
    app.setOrganizationName("ImageAI")
    window = MainWindow()
    window.show()
    QTimer.singleShot(0, lambda: log.info("%s %.3f s after run_gui()", READY_MESSAGE, time.perf_counter() - started))
    return app.exec()


if __name__ == "__main__":
    sys.exit(run_gui())
