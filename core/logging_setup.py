"""Logging: a rotating file in the platform log folder, stderr with --verbose, and a filter that redacts keys."""
from __future__ import annotations

import logging
import logging.handlers
import sys

from core.paths import log_dir
from core.secrets import redact


class RedactingFilter(logging.Filter):
    """Masks known keys in the message, its arguments, the traceback and the stack of every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging would print msg and args raw to stderr, so mask them here
            message = f"{record.msg} {record.args!r}"
            record.msg, record.args = redact(message), None
        else:
            clean = redact(message)
            if clean != message:
                record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def setup_logging(verbose: bool = False) -> None:
    root = logging.getLogger()
    if getattr(root, "_imageai_configured", False):
        return
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    redactor = RedactingFilter()
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        fh = logging.handlers.RotatingFileHandler(folder / "imageai-video.log", maxBytes=2_000_000, backupCount=3,
                                                  encoding="utf-8")
        fh.setFormatter(fmt)
        fh.addFilter(redactor)
        root.addHandler(fh)
    except OSError as exc:  # a read-only home must not stop the app
        print(f"warning: cannot write the log file: {exc}", file=sys.stderr)
    if verbose:
        sh = logging.StreamHandler(sys.stderr)
        sh.setFormatter(fmt)
        sh.addFilter(redactor)
        root.addHandler(sh)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    root._imageai_configured = True  # type: ignore[attr-defined]
