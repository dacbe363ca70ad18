"""How the fake ComfyUI's /prompt judges a graph, as the real server's execution.validate_inputs: missing
required inputs, bad links, link types, values converted to INT/FLOAT/STRING/BOOLEAN, min/max, combo lists."""
from __future__ import annotations


def _top(kind: str, message: str, details: str) -> dict:
    return {"error": {"type": kind, "message": message, "details": details, "extra_info": {}}, "node_errors": {}}


def _types_match(received: str, wanted) -> bool:
    if not isinstance(wanted, str) or "*" in (received, wanted):
        return True
    return bool(set(received.split(",")) & set(wanted.split(",")))


def _node_errors(graph: dict, node: dict, info: dict) -> list[dict]:
    spec_all = info[node["class_type"]]["input"]
    inputs = node.get("inputs") or {}
    errors = []
    for section in ("required", "optional"):
        for name, spec in (spec_all.get(section) or {}).items():
            kind, extra = spec[0], (spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {})
            if name not in inputs:
                if section == "required":
                    errors.append({"type": "required_input_missing", "message": "Required input is missing",
                                   "details": name, "extra_info": {"input_name": name}})
                continue
            val = inputs[name]
            if isinstance(val, list):
                if len(val) != 2 or str(val[0]) not in graph:
                    errors.append({"type": "bad_linked_input", "message": "Bad linked input, must be a length-2 "
                                   "list of [node_id, slot_index]", "details": name,
                                   "extra_info": {"input_name": name, "received_value": val}})
                    continue
                origin = info[graph[str(val[0])]["class_type"]]["output"]
                got = origin[val[1]] if isinstance(val[1], int) and 0 <= val[1] < len(origin) else "?"
                if not _types_match(got if isinstance(got, str) else "*", kind):
                    errors.append({"type": "return_type_mismatch", "message": "Return type mismatch between linked "
                                   "nodes", "details": f"{name}, {got} != {kind}",
                                   "extra_info": {"input_name": name, "received_type": got, "linked_node": val}})
                continue
            try:
                val = {"INT": int, "FLOAT": float, "STRING": str, "BOOLEAN": bool}.get(kind, lambda v: v)(val) \
                    if isinstance(kind, str) else val
            except (TypeError, ValueError) as ex:
                errors.append({"type": "invalid_input_type", "message": f"Failed to convert an input value to a "
                               f"{kind} value", "details": f"{name}, {val}, {ex}",
                               "extra_info": {"input_name": name, "received_value": val}})
                continue
            if "min" in extra and isinstance(val, (int, float)) and val < extra["min"]:
                errors.append({"type": "value_smaller_than_min", "message": f"Value {val} smaller than min of "
                               f"{extra['min']}", "details": name, "extra_info": {"input_name": name,
                                                                                   "received_value": val}})
                continue
            if "max" in extra and isinstance(val, (int, float)) and val > extra["max"]:
                errors.append({"type": "value_bigger_than_max", "message": f"Value {val} bigger than max of "
                               f"{extra['max']}", "details": name, "extra_info": {"input_name": name,
                                                                                   "received_value": val}})
                continue
            choices = kind if isinstance(kind, list) else extra.get("options") if kind == "COMBO" else None
            if choices is not None and val not in choices:
                shown = f"(list of length {len(choices)})" if len(choices) > 20 else str(choices)
                errors.append({"type": "value_not_in_list", "message": "Value not in list",
                               "details": f"{name}: '{val}' not in {shown}",
                               "extra_info": {"input_name": name, "received_value": val}})
    return errors
