"""ComfyUI's UI-format workflow (what "Save" and the template browser give: nodes, links, widget values, groups,
subgraphs) -> the API format /prompt takes, as ComfyUI's own front end does it, with one server's /object_info
telling the widget order of each node class.

- widgets_values (a list) go, in order, to the node class's widget inputs (INT, FLOAT, STRING, BOOLEAN, combos) in
  the /object_info order (required, then optional); socket inputs (MODEL, LATENT, ...) take no slot. An input
  turned into a socket keeps its slot; its link wins over the value. After a widget with control_after_generate
  (seed, noise_seed) comes its "fixed/randomize/..." value, after an upload combo the upload button's: both skipped.
  A dynamic combo (V3 COMFY_DYNAMICCOMBO_V3) is followed by the widgets of the option chosen, named "combo.child".
  widgets_values given as a dict are read by name.
- Muted nodes (mode 2) are left out; bypassed ones (mode 4) pass their input of the same type through; Reroute,
  PrimitiveNode, Note and MarkdownNote exist only in the UI; groups are ignored. KJNodes' SetNode/GetNode pairs
  (a front-end "bus": GetNode "x" gives what feeds the SetNode "x" of the same graph) exist only in the UI too.
- A subgraph node is expanded: its inner nodes get the ids "<outer id>:<inner id>" (as the front end names them),
  its inputs are wired to what feeds the subgraph node (or its widget values), its outputs to the inner sources.
A workflow this cannot read is an InvalidRequestError naming the node; a node class the server lacks is a
MissingOnServer (another server may have it) naming the node's id, title and class and the pack that provides it."""
from __future__ import annotations

from typing import Any, Optional

from core.errors import InvalidRequestError
from providers.ltx.comfyui_checks import MissingOnServer, where_from

#: the input types the front end shows as a widget (AUDIO_RECORD and WEBCAM: its recorder and camera widgets)
WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO", "AUDIO_RECORD", "WEBCAM"}
DYNAMIC_COMBO = "COMFY_DYNAMICCOMBO_V3"
UI_ONLY = {"Note", "MarkdownNote", "Reroute", "PrimitiveNode", "SetNode", "GetNode"}
NOTES = {"Note", "MarkdownNote"}
CONTROL_VALUES = {"fixed", "increment", "decrement", "randomize"}
UPLOAD_VALUES = {"image", "video", "audio", None}
MUTED, BYPASSED = 2, 4
SUBGRAPH_IN, SUBGRAPH_OUT = -10, -20
MAX_NESTING = 16  # subgraphs inside subgraphs; a definition that contains itself would never end


class UnreadableWorkflow(InvalidRequestError):
    def __init__(self, message: str):
        self.reason = message  # without the field's prefix, to be put into a longer message
        super().__init__(message, field="workflow")


def is_ui_format(graph: Any) -> bool:
    return isinstance(graph, dict) and isinstance(graph.get("nodes"), list) and "links" in graph


def without_notes(graph: dict) -> dict:
    """The UI graph without its Note/MarkdownNote nodes (their text is no part of the render, so a `{{...}}` in a
    note is no placeholder)."""
    out = dict(graph, nodes=[n for n in graph["nodes"] if not (isinstance(n, dict) and n.get("type") in NOTES)])
    defs = graph.get("definitions")
    if isinstance(defs, dict) and isinstance(defs.get("subgraphs"), list):
        out["definitions"] = dict(defs, subgraphs=[
            dict(s, nodes=[n for n in s.get("nodes") or [] if not (isinstance(n, dict) and n.get("type") in NOTES)])
            if isinstance(s, dict) else s for s in defs["subgraphs"]])
    return out


# ---- the node classes' widgets -------------------------------------------------------------------------------
def _sections(spec_all: dict) -> list[tuple[str, list]]:
    """(name, spec) of every input, required then optional, in the server's order."""
    order = spec_all.get("input_order") or {}
    out: list[tuple[str, list]] = []
    for section in ("required", "optional"):
        inputs = spec_all.get(section) or {}
        names = [n for n in order.get(section) or [] if n in inputs] or list(inputs)
        names += [n for n in inputs if n not in names]
        out += [(n, inputs[n] if isinstance(inputs[n], list) else [inputs[n]]) for n in names]
    return out


def _opts(spec: list) -> dict:
    return spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}


def _is_widget(spec: list) -> bool:
    kind, opts = spec[0] if spec else None, _opts(spec)
    if opts.get("forceInput"):
        return False
    return isinstance(kind, list) or kind in WIDGET_TYPES or kind == DYNAMIC_COMBO or "widgetType" in opts


def _combo_options(spec: list) -> list:
    opts = _opts(spec)
    return [o for o in opts.get("options") or [] if isinstance(o, dict)]


def _assign(widgets: list[tuple[str, list]], values: list, pos: int, out: dict, prefix: str = "") -> int:
    """Give the list `values` from `pos` on to the widgets in order; returns the position after them."""
    for name, spec in widgets:
        if not _is_widget(spec):
            continue
        full = prefix + name
        if pos >= len(values):
            return pos  # the front end gives a widget without a saved value its default: the server does too
        out[full] = values[pos]
        pos += 1
        opts = _opts(spec)
        if (opts.get("control_after_generate") or (not prefix and name in ("seed", "noise_seed"))) \
                and pos < len(values) and values[pos] in CONTROL_VALUES:
            pos += 1
        if any(opts.get(k) for k in ("image_upload", "video_upload", "audio_upload")) \
                and pos < len(values) and values[pos] in UPLOAD_VALUES:
            pos += 1
        if spec[0] == DYNAMIC_COMBO:
            chosen = next((o for o in _combo_options(spec) if o.get("key") == out[full]), None)
            if chosen is not None:
                pos = _assign(_sections(chosen.get("inputs") or {}), values, pos, out, full + ".")
    return pos


def _by_name(widgets: list[tuple[str, list]], values: dict, out: dict, prefix: str = "") -> None:
    for name, spec in widgets:
        full = prefix + name
        if _is_widget(spec) and full in values:
            out[full] = values[full]
            if spec[0] == DYNAMIC_COMBO:
                chosen = next((o for o in _combo_options(spec) if o.get("key") == values[full]), None)
                if chosen is not None:
                    _by_name(_sections(chosen.get("inputs") or {}), values, out, full + ".")


def widget_inputs(node_info: dict, values: Any) -> dict:
    """The API inputs a node's saved widget values stand for."""
    widgets = _sections(node_info.get("input") or {})
    out: dict = {}
    if isinstance(values, dict):
        _by_name(widgets, values, out)
    elif isinstance(values, list):
        _assign(widgets, values, 0, out)
    return out


# ---- the graph ---------------------------------------------------------------------------------------------------
class _Scope:
    """One level of the graph: the top, or one expanded subgraph node (its definition and where it sits)."""

    def __init__(self, nodes: list, links: Any, prefix: str, parent: Optional["_Scope"] = None,
                 instance: Optional[dict] = None, definition: Optional[dict] = None):
        self.nodes: dict[int, dict] = {}
        for n in nodes:
            if not isinstance(n, dict) or "id" not in n or "type" not in n:
                raise UnreadableWorkflow(f"a node without an id or a type: {str(n)[:80]}")
            self.nodes[n["id"]] = n
        self.links: dict[int, tuple] = {}
        for link in links or []:
            if isinstance(link, list) and len(link) >= 5:
                self.links[link[0]] = (link[1], link[2], link[3], link[4])
            elif isinstance(link, dict) and "id" in link:
                self.links[link["id"]] = (link.get("origin_id"), link.get("origin_slot"), link.get("target_id"),
                                          link.get("target_slot"))
            elif link is not None:
                raise UnreadableWorkflow(f"a link that is neither [id, from, slot, to, slot, type] nor an object: "
                                         f"{str(link)[:80]}")
        self.prefix, self.parent, self.instance, self.definition = prefix, parent, instance, definition

    def api_id(self, node_id: Any) -> str:
        return f"{self.prefix}{node_id}"


def _title(node: dict) -> str:
    return str(node.get("title") or node.get("type"))


def _where(scope: _Scope, node: dict) -> str:
    return f"node {scope.api_id(node['id'])} ({_title(node)!r}, {node['type']})"


class _Converter:
    def __init__(self, graph: dict, info: dict):
        self.info = info
        defs = (graph.get("definitions") or {}).get("subgraphs") or []
        self.subgraphs = {d["id"]: d for d in defs if isinstance(d, dict) and "id" in d}
        self.out: dict[str, dict] = {}
        self.missing: list[str] = []

    # where a value comes from: ("link", [id, slot]), ("value", v) or None (nothing: the input is left out)
    def source(self, scope: _Scope, link_id: Any, depth: int = 0) -> Optional[tuple]:
        if link_id is None:
            return None
        if link_id not in scope.links:
            raise UnreadableWorkflow(f"link {link_id} is used but not listed among the links"
                                     + (f" of subgraph {scope.definition.get('name')!r}" if scope.definition else ""))
        origin, slot = scope.links[link_id][:2]
        return self.output_of(scope, origin, slot, depth)

    def output_of(self, scope: _Scope, origin: Any, slot: Any, depth: int = 0) -> Optional[tuple]:
        if depth > 256:
            raise UnreadableWorkflow("links go round in a circle (through reroutes or bypassed nodes)")
        if origin == SUBGRAPH_IN and scope.instance is not None:
            return self.subgraph_input(scope, slot, depth)
        node = scope.nodes.get(origin)
        if node is None:
            raise UnreadableWorkflow(f"a link starts at node {scope.api_id(origin)}, which is not in the workflow")
        kind, mode = node["type"], node.get("mode", 0)
        if mode == MUTED:
            return None
        if kind == "Reroute" or mode == BYPASSED:
            return self.pass_through(scope, node, slot, depth)
        if kind == "GetNode":
            return self.get_node(scope, node, depth)
        if kind == "PrimitiveNode":
            values = node.get("widgets_values")
            return ("value", values[0]) if isinstance(values, list) and values else None
        if kind in self.subgraphs:
            return self.subgraph_output(scope, node, slot, depth)
        return ("link", [scope.api_id(origin), int(slot)])

    def pass_through(self, scope: _Scope, node: dict, slot: int, depth: int) -> Optional[tuple]:
        """A Reroute passes its one input on; a bypassed node the input of its output's type (same slot first)."""
        inputs = [i for i in node.get("inputs") or [] if isinstance(i, dict)]
        if node["type"] == "Reroute":
            return self.source(scope, inputs[0].get("link"), depth + 1) if inputs else None
        outputs = node.get("outputs") or []
        wanted = outputs[slot].get("type") if isinstance(slot, int) and slot < len(outputs) else None
        same = [i for i in inputs if i.get("link") is not None and wanted is not None
                and (i.get("type") == wanted or "*" in (i.get("type"), wanted))]
        at_slot = [i for i in same if inputs.index(i) == slot]
        for candidate in at_slot + same:
            return self.source(scope, candidate.get("link"), depth + 1)
        return None

    def get_node(self, scope: _Scope, node: dict, depth: int) -> Optional[tuple]:
        """A GetNode gives what feeds the SetNode of its name in the same graph (KJNodes looks no further)."""
        name = (node.get("widgets_values") or [None])[0]
        setters = [n for n in scope.nodes.values() if n["type"] == "SetNode"
                   and (n.get("widgets_values") or [None])[0] == name]
        if not setters:
            raise UnreadableWorkflow(f"{_where(scope, node)} gets {name!r}, which no SetNode of its graph sets")
        inputs = [i for i in setters[0].get("inputs") or [] if isinstance(i, dict)]
        return self.source(scope, inputs[0].get("link"), depth + 1) if inputs else None

    def subgraph_input(self, scope: _Scope, slot: int, depth: int) -> Optional[tuple]:
        """Subgraph input `slot` inside `scope`: what feeds the subgraph node there, or its widget value."""
        parent, instance, definition = scope.parent, scope.instance, scope.definition
        sub_inputs = definition.get("inputs") or []
        if not isinstance(slot, int) or not 0 <= slot < len(sub_inputs):
            raise UnreadableWorkflow(f"subgraph {definition.get('name')!r} has no input {slot}")
        name = sub_inputs[slot].get("name")
        for i in instance.get("inputs") or []:
            if isinstance(i, dict) and i.get("name") == name and i.get("link") is not None:
                return self.source(parent, i["link"], depth + 1)
        values = instance.get("widgets_values")
        if isinstance(values, dict):
            return ("value", values[name]) if name in values else None
        widget_names = [s.get("name") for s in sub_inputs if _is_widget([s.get("type")])]
        if isinstance(values, list) and name in widget_names and widget_names.index(name) < len(values):
            return ("value", values[widget_names.index(name)])
        return None

    def subgraph_output(self, scope: _Scope, node: dict, slot: int, depth: int) -> Optional[tuple]:
        definition = self.subgraphs[node["type"]]
        outputs = definition.get("outputs") or []
        if not isinstance(slot, int) or not 0 <= slot < len(outputs):
            raise UnreadableWorkflow(f"{_where(scope, node)}: subgraph {definition.get('name')!r} has no output {slot}")
        inner = self.scope_of(scope, node)
        for link_id in outputs[slot].get("linkIds") or []:
            if link_id in inner.links:  # the front end leaves stale ids here; they lead nowhere
                return self.source(inner, link_id, depth + 1)
        return None

    def scope_of(self, scope: _Scope, node: dict) -> _Scope:
        definition = self.subgraphs[node["type"]]
        return _Scope(definition.get("nodes") or [], definition.get("links"), f"{scope.api_id(node['id'])}:",
                      scope, node, definition)

    # the nodes that become API nodes
    def walk(self, scope: _Scope, nesting: int = 0) -> None:
        if nesting > MAX_NESTING:
            raise UnreadableWorkflow(f"subgraphs nest more than {MAX_NESTING} deep (a subgraph that contains itself?)")
        for node in scope.nodes.values():
            kind, mode = node["type"], node.get("mode", 0)
            if kind in UI_ONLY or mode in (MUTED, BYPASSED):
                continue
            if kind in self.subgraphs:
                self.walk(self.scope_of(scope, node), nesting + 1)
                continue
            if kind not in self.info:
                self.missing.append(f"{_where(scope, node)} is not on the server; install {where_from(kind)}")
                continue
            self.out[scope.api_id(node["id"])] = self.api_node(scope, node)

    def api_node(self, scope: _Scope, node: dict) -> dict:
        inputs = widget_inputs(self.info[node["type"]], node.get("widgets_values"))
        for i in node.get("inputs") or []:
            if not isinstance(i, dict):
                raise UnreadableWorkflow(f"{_where(scope, node)} has an input that is not an object")
            name = (i.get("widget") or {}).get("name") or i.get("name")
            if i.get("link") is None or not name:
                continue
            try:
                got = self.source(scope, i["link"])
            except UnreadableWorkflow as exc:
                raise UnreadableWorkflow(f"{_where(scope, node)} input {name}: {exc.reason}") from None
            if got is not None:
                inputs[name] = got[1]
            elif name in inputs and not i.get("widget"):
                del inputs[name]
        return {"class_type": node["type"], "inputs": inputs, "_meta": {"title": _title(node)}}


def to_api(graph: dict, info: dict, server: str = "the server") -> dict:
    """The API-format graph of a UI-format workflow (one in API format comes back as it is)."""
    if not is_ui_format(graph):
        return graph
    conv = _Converter(graph, info)
    conv.walk(_Scope(graph["nodes"], graph.get("links"), ""))
    if conv.missing:
        raise MissingOnServer(f"ComfyUI server {server} cannot run this workflow: " + "; ".join(conv.missing),
                              field="workflow")
    if not conv.out:
        raise UnreadableWorkflow("the workflow has no node that runs (all are notes, muted or bypassed)")
    return conv.out
