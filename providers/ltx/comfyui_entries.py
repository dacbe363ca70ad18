"""The rules of a ComfyUI server entry in the Settings dialog (its id, its address), every problem listed at once,
and the servers the saved settings name. Light on purpose (no aiohttp, no backend): the main window imports the
dialog at start."""
from __future__ import annotations

from typing import Optional
from urllib.parse import urlsplit

from core.config import Settings
from providers.ltx.comfyui_servers import SERVER_ID, default_id, normal_url, parse_list


def saved_servers(settings: Settings) -> list[tuple[str, str]]:
    """(id, URL) of the servers the settings name, without the environment override (that is not saved)."""
    if settings.comfyui_servers:
        return [(k.strip(), normal_url(v)) for k, v in settings.comfyui_servers.items()]
    return parse_list(settings.comfyui_url or "")


def url_problem(url: str) -> Optional[str]:
    """Why an address cannot be a service URL, or None."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an address (http://host:port or https://host)"
    try:
        parts.port
    except ValueError:
        return f"{url!r} has no valid port (1-65535)"
    return None


def server_problems(rows: list[tuple[str, str]]) -> list[str]:
    """Every problem of a list of (id, URL) entries, one line each (an empty id means the URL's host:port)."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for n, (sid, url) in enumerate(rows, 1):
        bad = url_problem(normal_url(url)) if url.strip() else "no address"  # a bare host:port means http
        if bad:
            out.append(f"ComfyUI server {n}: {bad}")
            continue
        sid = sid.strip() or default_id(url)
        if not SERVER_ID.match(sid):
            out.append(f"ComfyUI server {n}: id {sid!r} is not usable (letters, digits, '.', '_', ':' and '-', "
                       f"at most 64)")
        elif sid in seen:
            out.append(f"ComfyUI servers {seen[sid]} and {n} are both named {sid!r}; give each its own id")
        else:
            seen[sid] = n
    return out
