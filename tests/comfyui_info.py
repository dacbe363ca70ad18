"""The /object_info the ComfyUI workflow tests check against: the one recorded from a real server, extended with the
newer node classes the LTX-2.x workflows use (tests/data/comfyui/object_info_newer.json), as the fake serves it;
and the LTX workflows of the comfyui-workflow-templates-json package (a test dependency, nothing fetched)."""
from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path

import comfyui_workflow_templates_json

from tests.fakes.comfyui_fake import _node_errors, _recorded

DATA = Path(__file__).resolve().parent / "data" / "comfyui"
PACKAGE = Path(comfyui_workflow_templates_json.__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def _extended() -> str:
    return _recorded()


def extended_info() -> dict:
    return json.loads(_extended())


def pack_info() -> dict:
    """The extended /object_info of a server with ComfyUI-LTXVideo installed (tests/data/comfyui/
    object_info_pack.json: the pack's nodes as described from its source)."""
    return {**extended_info(), **json.loads((DATA / "object_info_pack.json").read_text(encoding="utf-8"))}


def ltx_workflows() -> list[Path]:
    """Every LTX workflow the package ships (by name: ltx, lightricks), index files aside."""
    return sorted(p for p in PACKAGE.glob("*.json")
                  if any(w in p.name.lower() for w in ("ltx", "lightricks")) and "index" not in p.name)


def installed(info: dict, graph: dict) -> dict:
    """A copy of `info` as a server would answer that has every file the graph names in its lists (a combo input
    whose value is a model or input file)."""
    info = copy.deepcopy(info)
    for node in graph.values():
        spec_all = (info.get(node["class_type"]) or {}).get("input") or {}
        for section in ("required", "optional"):
            for name, spec in (spec_all.get(section) or {}).items():
                value = node["inputs"].get(name)
                if not isinstance(value, str) or "." not in value:
                    continue
                if isinstance(spec[0], list) and value not in spec[0]:
                    spec[0].append(value)
                elif spec[0] == "COMBO" and value not in spec[1].setdefault("options", []):
                    spec[1]["options"].append(value)
    return info


def server_errors(graph: dict, info: dict) -> list[str]:
    """What a ComfyUI server's /prompt validation says about an API-format graph (the fake's copy of it), one line
    per problem."""
    out = [f"node {k}: no class {n['class_type']}" for k, n in graph.items() if n["class_type"] not in info]
    if out:
        return out
    if not any(info[n["class_type"]].get("output_node") for n in graph.values()):
        out.append("no output node")
    for node_id, node in graph.items():
        for e in _node_errors(graph, node, info):
            out.append(f"node {node_id} ({node['class_type']}): {e['message']}: {e['details']}")
    return out
