"""An error in one plain sentence, with the full text (FFmpeg's own lines included) kept apart as the details the
user opens with one click (Qt-free). The sentence says what went wrong in the user's words and what to do."""
from __future__ import annotations

import re

from core.errors import ImageAIError, InvalidRequestError

#: (pattern in FFmpeg's error lines, the sentence): the first that matches wins
FFMPEG_CAUSES = (
    (r"No space left on device", "The disk is full: free some space and export again."),
    (r"Permission denied|Read-only file system",
     "The output file cannot be written there: choose another place, or close the program using it."),
    (r"Unknown encoder|Encoder not found|Error selecting an encoder",
     "This FFmpeg has no encoder for the chosen codec: choose another codec (Auto picks one it has)."),
    (r"lut3d|\.cube\b|\.3dl\b", "The colour LUT could not be read: choose another LUT file or none."),
    (r"drawtext|font", "A text overlay could not be drawn: check its font and text."),
    (r"Invalid data found|moov atom not found|Error while decoding|corrupt",
     "A clip or file of the project could not be read: render that scene again or replace the file."),
    (r"Error initializing filter|filtergraph|Error reinitializing filters",
     "FFmpeg refused the chosen effects (transitions, text, LUT or watermark): change them and export again."),
)
MAX_SENTENCE = 160


def plain(exc: BaseException) -> tuple[str, str]:
    """(one sentence, the details). The details hold everything the sentence leaves out, one item per line."""
    text = str(exc).strip() or type(exc).__name__
    details = text.replace(" | ", "\n")
    if text.startswith("FFmpeg failed"):
        for pattern, sentence in FFMPEG_CAUSES:
            if re.search(pattern, text, re.IGNORECASE):
                return sentence, details
        code = re.match(r"FFmpeg failed \(exit (-?\d+)\)", text)
        return (f"FFmpeg stopped with an error{f' (exit {code.group(1)})' if code else ''} while making the video: "
                "open the details for its own words."), details
    field = getattr(exc, "field", None)
    if isinstance(exc, InvalidRequestError) and field and text.startswith(f"{field}: "):
        text = text[len(field) + 2:]  # the field is the CLI's word for where; the sentence says it itself
    if isinstance(exc, (ImageAIError, OSError, ValueError)):
        return _sentence(text), details
    return _sentence(f"Something unexpected went wrong ({type(exc).__name__}: {text})"), details


def sentence(text: str) -> str:
    """A message already in words (a take's saved error): its first line as one short sentence."""
    return _sentence(text.strip() or "unknown error")


def _sentence(text: str) -> str:
    """The first line, capitalised, ending in a full stop, cut at a clause when long."""
    first = text.splitlines()[0].strip()
    if len(first) > MAX_SENTENCE:
        first = _shortened_list(first) or _cut_at_clause(first)
    first = first[:1].upper() + first[1:]
    return first if first.endswith((".", "…", "!", "?")) else first + "."


def _shortened_list(text: str) -> str:
    """'missing: a, b, c, d' -> 'missing: a, b and 2 more' within the length; '' when it is no such list."""
    head, sep, rest = text.partition(": ")
    items = rest.split(", ") if sep else []
    if len(items) < 2:
        return ""
    kept: list[str] = []
    for item in items:
        if len(f"{head}: {', '.join(kept + [item])} and {len(items)} more") > MAX_SENTENCE:
            break
        kept.append(item)
    if not kept:
        return ""
    return f"{head}: {', '.join(kept)}" + (f" and {len(items) - len(kept)} more" if len(kept) < len(items) else "")


def _cut_at_clause(text: str) -> str:
    cut = max(text.rfind("; ", 0, MAX_SENTENCE), text.rfind(": ", 0, MAX_SENTENCE))
    return text[:cut] if cut > 40 else text[:MAX_SENTENCE - 1].rstrip() + "…"
