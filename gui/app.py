"""GUI entry point: `python main.py` with no arguments calls run_gui()."""
from __future__ import annotations

import sys
from typing import Optional, Sequence


def run_gui(argv: Optional[Sequence[str]] = None) -> int:
    from PySide6.QtWidgets import QApplication

    from core.logging_setup import setup_logging
    from gui.main_window import MainWindow

    setup_logging()
    app = QApplication.instance() or QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setApplicationName("ImageAI Video")
    app.setOrganizationName("ImageAI")
    window = MainWindow()
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(run_gui())
