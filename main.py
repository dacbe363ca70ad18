"""ImageAI Video. No arguments: open the app window. Arguments: the command line (python main.py --help)."""
from __future__ import annotations

import sys


def main() -> int:
    if len(sys.argv) > 1:
        from cli.main import main as cli_main
        return cli_main(sys.argv[1:])
    from gui.app import run_gui
    return run_gui()


if __name__ == "__main__":
    sys.exit(main())
