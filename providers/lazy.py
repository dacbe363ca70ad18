"""Loading a "module:attribute" target on first use, turning a missing module into UnavailableError with a reason a
person can act on (used by the provider registry and by LTX's deployment table)."""
from __future__ import annotations

import importlib

from core.errors import UnavailableError


def load_target(target: str, what: str) -> object:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name == module_name or module_name.startswith(exc.name + ".")):
            raise UnavailableError(f"{what} is not part of this build yet") from exc
        raise UnavailableError(f"{what} needs the Python package {exc.name!r}; "
                               f"install it with pip install {exc.name}") from exc
    except ImportError as exc:
        raise UnavailableError(f"{what} cannot be loaded: {exc}") from exc
    return getattr(module, attr)
