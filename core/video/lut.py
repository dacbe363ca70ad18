"""Checking a colour LUT before it is saved into a project or handed to FFmpeg: a file FFmpeg's lut3d cannot read
would make every later export fail."""
from __future__ import annotations

from pathlib import Path

from core.errors import InvalidRequestError

MAX_LUT_BYTES = 64 * 1024 * 1024  # a 65-point 3D LUT as text is about 8 MB


def check_lut(path: Path, field: str = "lut") -> None:
    """Raise InvalidRequestError unless `path` is a .cube 3D LUT (Adobe/Resolve text format) lut3d can load."""
    path = Path(path)
    allowed = ["a .cube 3D LUT (text with LUT_3D_SIZE and its rows of three numbers)"]
    if path.suffix.lower() != ".cube":
        raise InvalidRequestError(f"{path.name} is not a .cube LUT", field=field, allowed=allowed)
    if path.stat().st_size > MAX_LUT_BYTES:
        raise InvalidRequestError(f"{path.name} is larger than a LUT can be", field=field, allowed=allowed)
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        raise InvalidRequestError(f"{path.name} is not a text LUT", field=field, allowed=allowed) from None
    size, rows = None, 0
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, rest = line.partition(" ")
        if key == "LUT_3D_SIZE":
            try:
                size = int(rest.strip())
            except ValueError:
                break
        elif key[0].isdigit() or key[0] in "-.":
            parts = line.split()
            try:
                [float(p) for p in parts]
            except ValueError:
                raise InvalidRequestError(f"{path.name}: a row that is not three numbers: {line[:40]!r}",
                                          field=field, allowed=allowed) from None
            rows += 1 if len(parts) == 3 else 0
    if size is None or not 2 <= size <= 256:
        raise InvalidRequestError(f"{path.name} has no valid LUT_3D_SIZE line", field=field, allowed=allowed)
    if rows != size ** 3:
        raise InvalidRequestError(f"{path.name} has {rows} rows; a {size}-point LUT has {size ** 3}", field=field,
                                  allowed=allowed)
