"""How CLI commands talk: one JSON object on stdout with --json, human messages on stderr, typed errors mapped to
exit codes (0 ok, 1 render failed, 2 bad input, 3 missing key / unavailable / unreachable). Secrets are redacted."""
from __future__ import annotations

import json
import logging
import sys
from typing import Any, Callable

from core.errors import ImageAIError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_UNAVAILABLE = 0, 1, 2, 3


def redact(text: str) -> str:
    from core.secrets import redact as redact_secrets  # imported on first output: keeps --help fast
    return redact_secrets(text)


def printable(text: str) -> str:
    """Control characters (terminal escape sequences among them) shown escaped, never sent to the terminal."""
    return "".join(ch if ch == "\n" or (ch.isprintable() and ch != "\x7f") else ch.encode("unicode_escape").decode()
                   for ch in text)


def say(message: str) -> None:
    print(printable(redact(message)), file=sys.stderr, flush=True)


def emit_json(obj: Any) -> None:
    try:
        print(redact(json.dumps(obj, default=str)), flush=True)
    except BrokenPipeError:  # `... --json | head`: the reader left; nothing more to say to it
        sys.stdout = None


def amount(value: float) -> str:
    """Dollars with the digits the price has (at least cents, at most four decimals): $0.042 an image shows as
    0.042, so the per-image, per-scene and total figures add up."""
    text = f"{value:.4f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"{whole}.{cents.ljust(2, '0')}"


def money(value: float) -> str:
    """The one way a CLI message shows money."""
    return "$" + amount(value)


def print_estimate(json_mode: bool, payload: dict, cost: float, line: str) -> int:
    """An estimate: one JSON object, or the cost on stdout (for scripts) and a sentence on stderr (for people)."""
    if json_mode:
        emit_json(payload)
    else:
        print(amount(cost))
        say(line)
    return EXIT_OK


def describe_validation(exc) -> str:
    """Every problem of a pydantic error, each naming its field."""
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err.get("loc", ())) or "value"
        msg = err.get("msg", "invalid").removeprefix("Value error, ")
        shown = "input" not in err or "(allowed:" in msg or repr(err["input"]) in msg
        parts.append(f"{field}: {msg}" if shown else f"{field}: {msg} (got {err['input']!r})")
    return "; ".join(parts)


def guarded(command: Callable[[], int], json_mode: bool = False) -> int:
    """Run a command; typed errors become a message on stderr and the matching exit code (and, with --json, one
    JSON object on stdout naming the error, so scripts always get an object)."""
    def fail(message: str, kind: str, code: int) -> int:
        say(f"error: {message}")
        if json_mode:
            emit_json({"error": message, "error_kind": kind, "exit_code": code})
        return code

    try:
        return command()
    except ImageAIError as exc:
        return fail(str(exc), exc.kind, exc.exit_code)
    except Exception as exc:
        # pydantic is imported lazily (it is not needed for --help), so its error class is looked up here
        pydantic_core = sys.modules.get("pydantic_core")
        if pydantic_core is not None and isinstance(exc, pydantic_core.ValidationError):
            return fail(describe_validation(exc), "invalid_request", EXIT_BAD_INPUT)
        # a bug: the traceback goes to the log (through the redacting filter), one line to the user
        logging.getLogger("imageai").exception("unexpected error")
        return fail(f"{type(exc).__name__}: {exc} (a bug; the log has the details)", "internal", EXIT_FAILED)
    except KeyboardInterrupt:
        say("cancelled")
        return 130


class ProgressPrinter:
    """Render events as short lines on stderr (a terminal gets a carriage-return progress line)."""

    def __init__(self, labels: dict[str, str]):
        self.labels = labels
        self.tty = sys.stderr.isatty()
        self._last: dict[str, int] = {}

    def __call__(self, event) -> None:
        label = self.labels.get(event.scene_id, event.scene_id)
        if event.kind == "progress":
            if event.message and event.message.startswith(("adjusted", "warning", "note")):
                say(f"{label}: {event.message}")  # what the provider changed or warns about is always shown
            if event.fraction is None:
                return
            pct = int(event.fraction * 100)
            if self.tty:
                bar = "#" * (pct // 5)
                print(f"\r{label}: [{bar:<20}] {pct:3d}%", end="", file=sys.stderr, flush=True)
            elif pct // 25 != self._last.get(event.scene_id, -1):
                self._last[event.scene_id] = pct // 25
                say(f"{label}: {pct}%")
            return
        if self.tty:
            print("\r", end="", file=sys.stderr)
        text = f"{label}: {event.kind}"
        if event.message:
            text += f" - {event.message}"
        if event.cost:
            text += f" ({money(event.cost)})"
        say(text)
