"""The record of a Veo chain (a base clip and its extensions, or the extensions of a user's clip): the operation of
every call, in order, saved the moment each exists. A resumed render follows the recorded operations and submits
only the calls that never started, so no call is paid twice. Single-call renders need none: their job id is
their only operation."""
from __future__ import annotations

import json
import logging
from pathlib import Path

from pydantic import BaseModel, ValidationError

from core.atomic import atomic_write_text

log = logging.getLogger(__name__)


class ChainState(BaseModel):
    job: str          # the first operation: the take's job id
    ops: list[str]    # the operation of every call submitted so far (ops[0] == job)


def load(path: Path, job: str) -> ChainState:
    """The recorded chain of `job`, or a chain of its first call only (a record of another job is not ours)."""
    try:
        state = ChainState.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
        if state.job == job and state.ops and state.ops[0] == job:
            return state
        log.warning("%s records the chain of another job; starting from %s", path, job)
    except FileNotFoundError:
        pass
    except (OSError, ValueError, ValidationError) as exc:  # damaged: the first call is known from the job id
        log.warning("unreadable chain record %s: %s", path, exc)
    return ChainState(job=job, ops=[job])


def save(path: Path, state: ChainState) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, state.model_dump_json())


def clear(path: Path) -> None:
    try:
        Path(path).unlink()
    except FileNotFoundError:
        pass
