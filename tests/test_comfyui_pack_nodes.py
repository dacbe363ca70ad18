"""Workflows that use the custom-node pack ComfyUI-LTXVideo: our own UI-format workflows in the shape of the pack's
published examples (tests/data/comfyui/ltxvideo_pack: the looping sampler, the STG and APG guiders, the tiled
decoders, KJNodes' SetNode/GetNode bus, a bypassed node, converted widgets, a Reroute, two subgraphs) convert with
the /object_info of a server that has the pack (its nodes described from the pack's source in
object_info_pack.json) and pass the server's validation; one renders through the CLI on a fake with the pack; on a
server without it the CLI exits 2 naming every pack node and the pack. The pack is not installable here."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.video.media import count_frames
from providers.ltx.comfyui_checks import MissingOnServer
from providers.ltx.comfyui_convert import UnreadableWorkflow, to_api, widget_inputs
from providers.ltx.comfyui_workflows import fill, load_user_workflow, placeholders
from tests.comfyui_info import DATA, extended_info, installed, pack_info, server_errors
from tests.fakes.comfyui_fake import FakeComfyUI
from tests.fakes.comfyui_helpers import fake, graph_of, nodes  # noqa: F401

pytestmark = pytest.mark.timeout(180)
ROOT = Path(__file__).resolve().parent.parent
PACK_DIR = DATA / "ltxvideo_pack"
PACK_NODES = json.loads((DATA / "object_info_pack.json").read_text(encoding="utf-8"))
INFO, WITH_PACK = extended_info(), pack_info()
VALUES = {"prompt": "a kite over the sea", "width": 64, "height": 64, "num_frames": 9, "seed": 11, "fps": 24}
LOOPING = PACK_DIR / "looping_t2v.json"
SUBGRAPHS = PACK_DIR / "subgraphs_apg_tiled_decode.json"
#: the pack's node classes each workflow runs (a bypassed LTXVApplySTG in the looping one does not run)
PACK_USED = {"looping_t2v.json": {"LTXVLoopingSampler", "MultiPromptProvider", "STGGuiderAdvanced",
                                  "STGAdvancedPresets", "LTXVSpatioTemporalTiledVAEDecode"},
             "subgraphs_apg_tiled_decode.json": {"APGGuider", "LTXVTiledVAEDecode"}}


def converted(path: Path, info: dict = WITH_PACK) -> dict:
    return fill(to_api(load_user_workflow(path), info), VALUES)


def test_the_pack_nodes_are_described_in_the_object_info_shape_and_sourced_in_the_readme():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert len(PACK_NODES) >= 8
    for name, spec in PACK_NODES.items():
        assert spec["name"] == name and spec["python_module"] == "custom_nodes.ComfyUI-LTXVideo"
        assert name not in INFO, f"{name} is a core node: it belongs in object_info_newer.json"
        assert len(spec["output"]) == len(spec["output_name"]) == len(spec["output_is_list"])
        for section in ("required", "optional"):
            assert list(spec["input"].get(section) or {}) == spec["input_order"].get(section, []), name
        assert f"`{name}`" in readme, f"the README does not say where {name} was read"


@pytest.mark.parametrize("path", sorted(PACK_DIR.glob("*.json")), ids=lambda p: p.name)
def test_every_pack_workflow_converts_and_passes_the_validation_of_a_server_with_the_pack(path):
    api = converted(path)
    assert PACK_USED[path.name] <= {n["class_type"] for n in api.values()}
    assert not placeholders(api)
    assert server_errors(api, installed(WITH_PACK, api)) == []


@pytest.mark.parametrize("path", sorted(PACK_DIR.glob("*.json")), ids=lambda p: p.name)
def test_without_the_pack_every_pack_node_is_named_with_the_pack(path):
    with pytest.raises(MissingOnServer) as err:
        to_api(load_user_workflow(path), INFO, "gpu-1")
    text = str(err.value)
    for kind in PACK_USED[path.name]:
        assert f", {kind}) is not on the server; install ComfyUI-LTXVideo" in text, kind
    assert "LTXVApplySTG" not in text  # bypassed: it never reaches the server


def test_the_looping_samplers_widget_values_land_in_the_sources_input_order():
    """12 values as the pack's looping example saves them: the eight required widgets, then the optional
    adain_factor, guiding_start_step, guiding_end_step, optional_cond_image_indices (the sockets take no slot)."""
    got = widget_inputs(PACK_NODES["LTXVLoopingSampler"], [240, 80, 1.0, 0.5, 1.0, 2, 1, 1, 0.15, 0, 1000, "0, 224"])
    assert got == {"temporal_tile_size": 240, "temporal_overlap": 80, "guiding_strength": 1.0,
                   "temporal_overlap_cond_strength": 0.5, "cond_image_strength": 1.0, "horizontal_tiles": 2,
                   "vertical_tiles": 1, "spatial_overlap": 1, "adain_factor": 0.15, "guiding_start_step": 0,
                   "guiding_end_step": 1000, "optional_cond_image_indices": "0, 224"}
    decode = widget_inputs(PACK_NODES["LTXVSpatioTemporalTiledVAEDecode"], [6, 4, 16, 4, False, "auto", "auto"])
    assert decode == {"spatial_tiles": 6, "spatial_overlap": 4, "temporal_tile_length": 16, "temporal_overlap": 4,
                      "last_frame_fix": False, "working_device": "auto", "working_dtype": "auto"}


def test_the_looping_workflow_wires_the_bus_the_bypass_and_the_converted_widgets():
    api = converted(LOOPING)
    sampler, guider = api["12"]["inputs"], api["15"]["inputs"]
    # GetNode "model" -> SetNode "model" -> the bypassed LTXVApplySTG -> the checkpoint's MODEL
    assert sampler["model"] == guider["model"] == ["1", 0] and "2" not in api
    assert sampler["vae"] == api["16"]["inputs"]["vae"] == ["1", 2]
    assert sampler["temporal_tile_size"] == ["26", 0]  # a converted widget fed through the bus
    assert sampler["temporal_overlap"] == 24 and sampler["optional_cond_image_indices"] == "0"
    assert sampler["optional_positive_conditionings"] == ["7", 0] and "optional_cond_images" not in sampler
    assert guider["negative"] == ["8", 1] and guider["preset"] == ["14", 0]  # through the Reroute
    assert guider["stg_layers_indices"] == "[29], [29], [29]" and guider["apply_apg"] is False
    assert api["4"]["inputs"]["text"] == api["6"]["inputs"]["string_a"] == ["3", 0]
    assert api["3"]["inputs"]["value"] == "a kite over the sea"
    assert not {"SetNode", "GetNode", "Reroute", "Note"} & {n["class_type"] for n in api.values()}


def test_the_subgraph_workflow_takes_its_widget_inputs_from_the_subgraph_nodes():
    api = converted(SUBGRAPHS)
    assert api["100:1"]["inputs"] == {"ckpt_name": "ltx-video-2b-v0.9.5.safetensors"}  # the outer value wins
    decode = api["109:10"]["inputs"]
    assert decode["horizontal_tiles"] == decode["vertical_tiles"] == 2  # one subgraph input into two widgets
    assert decode["vae"] == ["100:1", 2] and decode["latents"] == ["108", 0]
    assert api["110"]["inputs"]["images"] == ["109:10", 0]  # past the bypassed ImageInvert inside
    assert "109:11" not in api


def test_a_get_node_without_its_set_node_names_the_node_and_the_name():
    graph = json.loads(LOOPING.read_text(encoding="utf-8"))
    graph["nodes"] = [n for n in graph["nodes"] if not (n["type"] == "SetNode" and n["widgets_values"] == ["vae"])]
    with pytest.raises(UnreadableWorkflow, match=r"node 25 \('Get_vae', GetNode\) gets 'vae', which no SetNode"):
        to_api(graph, WITH_PACK)


def test_a_get_node_reads_only_its_own_graph():
    """KJNodes looks the name up in the graph the GetNode is in: a subgraph does not see the top's SetNode."""
    graph = json.loads(SUBGRAPHS.read_text(encoding="utf-8"))
    graph["nodes"].append({"id": 120, "type": "SetNode", "mode": 0, "widgets_values": ["frames"],
                           "inputs": [{"name": "IMAGE", "type": "IMAGE", "link": 14}], "outputs": []})
    inner = graph["definitions"]["subgraphs"][1]
    inner["nodes"].append({"id": 12, "type": "GetNode", "mode": 0, "widgets_values": ["frames"], "inputs": [],
                           "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [17]}]})
    inner["nodes"][1]["inputs"][0]["link"] = 17
    inner["links"].append({"id": 17, "origin_id": 12, "origin_slot": 0, "target_id": 11, "target_slot": 0,
                           "type": "IMAGE"})
    with pytest.raises(UnreadableWorkflow, match=r"node 109:12 \('GetNode', GetNode\) gets 'frames'"):
        to_api(graph, WITH_PACK)


# ---- through the CLI on the fake --------------------------------------------------------------------------------
def cli(url: str, tmp_path: Path, workflow: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "IMAGEAI_COMFYUI_URL": url, "IMAGEAI_CONFIG_DIR": str(tmp_path / "cfg")}
    return subprocess.run([sys.executable, "main.py", "--provider", "ltx-video", "--deployment", "comfyui",
                           "--model", "ltx-video-2b", "--workflow", str(workflow), "-p", VALUES["prompt"],
                           "--width", "64", "--height", "64", "--frames", "9", "--fps", "24", "--seed", "11",
                           "-o", str(tmp_path / "out.mp4"), "--json"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=150)


def test_a_pack_workflow_on_a_server_without_the_pack_exits_2_naming_the_nodes_and_the_pack(fake, tmp_path):
    proc = cli(fake.url, tmp_path, LOOPING)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert "node 12 ('Looping Sampler', LTXVLoopingSampler) is not on the server; install ComfyUI-LTXVideo" \
        in proc.stderr
    assert "node 7 ('Per-Tile Prompts', MultiPromptProvider) is not on the server; install ComfyUI-LTXVideo" \
        in proc.stderr
    assert json.loads(proc.stdout)["error_kind"] == "invalid_request"
    assert not fake.received and not (tmp_path / "out.mp4").exists()


def test_a_pack_workflow_renders_through_the_cli_on_a_server_with_the_pack(tmp_path):
    server = FakeComfyUI(packs=("ComfyUI-LTXVideo",)).start()
    try:
        proc = cli(server.url, tmp_path, LOOPING)
        assert proc.returncode == 0, proc.stderr[-3000:]
        g = graph_of(server)
        assert nodes(g, "LTXVLoopingSampler")[0]["temporal_tile_size"] == ["26", 0]
        assert nodes(g, "PrimitiveStringMultiline")[0]["value"] == VALUES["prompt"]
        assert nodes(g, "EmptyLTXVLatentVideo")[0] == {"width": 64, "height": 64, "length": 9, "batch_size": 1}
        assert nodes(g, "RandomNoise")[0]["noise_seed"] == 11
        assert count_frames(tmp_path / "out.mp4") == 9
    finally:
        server.stop()


# ---- the UI features of the pack's 2.5 HDR examples, as rules ------------------------------------------------------
def _sub(sid, name, inputs, outputs, nodes, links):
    return {"id": sid, "version": 1, "name": name, "widgets": [],
            "inputs": [{"id": f"{sid}-i{k}", "name": n, "type": t, "linkIds": ids} for k, (n, t, ids) in
                       enumerate(inputs)],
            "outputs": [{"id": f"{sid}-o{k}", "name": n, "type": t, "linkIds": ids} for k, (n, t, ids) in
                        enumerate(outputs)],
            "nodes": nodes, "links": [{"id": i, "origin_id": a, "origin_slot": s, "target_id": b, "target_slot": t,
                                       "type": "*"} for i, a, s, b, t in links]}


def _n(nid, kind, widgets, inputs=(), outputs=()):
    return {"id": nid, "type": kind, "mode": 0, "widgets_values": widgets,
            "inputs": [{"name": n, "type": t, "link": link, **({"widget": {"name": n}} if w else {})}
                       for n, t, link, w in inputs],
            "outputs": [{"name": o, "type": o, "links": []} for o in outputs]}


def test_a_subgraph_nodes_values_follow_its_definitions_widget_inputs_also_those_it_does_not_list():
    """As the HDR examples' sampler subgraphs save them: the definition's widget inputs (sampler_name COMBO, cfg
    FLOAT, noise_seed INT) take the node's values in order, though the node lists only cfg among its inputs."""
    sub = _sub("s-1", "Sampler", [("model", "MODEL", [1]), ("sampler_name", "COMBO", [2]), ("cfg", "FLOAT", [3]),
                                  ("noise_seed", "INT", [4])], [],
               [_n(1, "KSamplerSelect", ["euler_ancestral"], [("sampler_name", "COMBO", 2, True)], ["SAMPLER"]),
                _n(2, "CFGGuider", [1.0], [("model", "MODEL", 1, False), ("cfg", "FLOAT", 3, True)], ["GUIDER"]),
                _n(3, "RandomNoise", [10, "fixed"], [("noise_seed", "INT", 4, True)], ["NOISE"])],
               [(1, -10, 0, 2, 0), (2, -10, 1, 1, 0), (3, -10, 2, 2, 3), (4, -10, 3, 3, 0)])
    graph = {"nodes": [_n(5, "CheckpointLoaderSimple", ["m.safetensors"], [], ["MODEL", "CLIP", "VAE"]),
                       _n(6, "s-1", ["euler", 1.5, 42], [("model", "MODEL", 1, False), ("cfg", "FLOAT", None, True)])],
             "links": [[1, 5, 0, 6, 0, "MODEL"]], "definitions": {"subgraphs": [sub]}}
    api = to_api(graph, INFO)
    assert api["6:1"]["inputs"] == {"sampler_name": "euler"}
    assert api["6:2"]["inputs"]["cfg"] == 1.5 and api["6:2"]["inputs"]["model"] == ["5", 0]
    assert api["6:3"]["inputs"] == {"noise_seed": 42}


def test_a_value_passed_out_of_one_subgraph_through_a_reroute_reaches_a_widget_in_another():
    """As the HDR examples' "Load Models" subgraph hands its checkpoint name (a COMBO input, through a Reroute, out
    of a "*" output) to the widget of a loader inside the "Input Parameters" subgraph."""
    loaders = _sub("s-load", "Load Models", [("ckpt_name", "COMBO", [1, 2])],
                   [("MODEL", "MODEL", [3]), ("", "*", [4])],
                   [_n(1, "CheckpointLoaderSimple", ["inner.safetensors"], [("ckpt_name", "COMBO", 1, True)],
                       ["MODEL", "CLIP", "VAE"]),
                    {"id": 2, "type": "Reroute", "mode": 0, "inputs": [{"name": "", "type": "*", "link": 2}],
                     "outputs": [{"name": "", "type": "*", "links": [4]}]}],
                   [(1, -10, 0, 1, 0), (2, -10, 0, 2, 0), (3, 1, 0, -20, 0), (4, 2, 0, -20, 1)])
    params = _sub("s-par", "Input Parameters", [("ckpt_name", "COMBO", [5])], [("VAE", "VAE", [6])],
                  [_n(3, "CheckpointLoaderSimple", ["other.safetensors"], [("ckpt_name", "COMBO", 5, True)],
                      ["MODEL", "CLIP", "VAE"])],
                  [(5, -10, 0, 3, 0), (6, 3, 2, -20, 0)])
    graph = {"nodes": [_n(10, "s-load", ["ltx-2.5.safetensors"], [("ckpt_name", "COMBO", None, True)],
                          ["MODEL", "*"]),
                       _n(11, "s-par", ["unused.safetensors"], [("ckpt_name", "COMBO", 7, True)], ["VAE"])],
             "links": [[7, 10, 1, 11, 0, "COMBO"]], "definitions": {"subgraphs": [loaders, params]}}
    api = to_api(graph, INFO)
    assert api["10:1"]["inputs"] == {"ckpt_name": "ltx-2.5.safetensors"}
    assert api["11:3"]["inputs"] == {"ckpt_name": "ltx-2.5.safetensors"}  # the link wins over the node's own value
