"""A queue run from the CLI (render, images, a two-provider comparison): Ctrl-C cancels the jobs at their services
instead of killing the loop, and the end of the run is reported the same way (JSON or lines, and the exit code)."""
from __future__ import annotations

import asyncio
import signal
from typing import Awaitable, Callable, Mapping, TypeVar

from cli.output import EXIT_FAILED, EXIT_OK, emit_json, say

T = TypeVar("T")


def run_with_ctrl_c(start: Callable[[], Awaitable[T]], cancel: Callable[[], None]) -> T:
    """asyncio.run(start()), where Ctrl-C calls cancel (the run marks its work cancelled and saves, then stops)."""
    async def main() -> T:
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGINT, cancel)
        except (NotImplementedError, RuntimeError):  # Windows: KeyboardInterrupt ends the run instead
            pass
        return await start()
    return asyncio.run(main())


def report_run(json_mode: bool, payload: dict, summary, ledger_total: float, labels: Mapping[str, str],
               line: str) -> int:
    """The end of a run: one JSON object (payload plus the summary's totals) or each failed scene and the line;
    the exit code is 130 when cancelled, failed when any scene failed."""
    if json_mode:
        emit_json({**payload, "total_cost": summary.total_cost, "ledger_total": ledger_total,
                   "failed": len(summary.failed), "cancelled": len(summary.cancelled)})
    else:
        for sid, message in summary.failed.items():
            say(f"{labels.get(sid, sid)} failed: {message}")
        say(line)
    if summary.cancelled:
        return 130
    return EXIT_OK if not summary.failed else EXIT_FAILED
