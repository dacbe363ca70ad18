"""The rule for paths stored in a project file: relative to the project folder, never absolute, never `..`."""
from __future__ import annotations

from pathlib import PurePosixPath
from typing import Optional


def check_relative_path(value: Optional[str]) -> Optional[str]:
    """Refuse an asset path that is absolute or climbs out of the project folder."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError("asset path must be a non-empty string")
    if "\\" in value or value.startswith("/") or (len(value) > 1 and value[1] == ":"):
        raise ValueError(f"asset path {value!r} is absolute; paths must be relative to the project folder")
    if ".." in PurePosixPath(value).parts:
        raise ValueError(f"asset path {value!r} points outside the project folder")
    return value
