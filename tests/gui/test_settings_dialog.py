"""The Settings dialog (gui/settings/): the ComfyUI server test against real fake servers on 127.0.0.1, the values
of every page round-tripped through Settings and settings.json, and validation that lists every problem at once."""
from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPushButton

from core.config import Settings, load_settings, save_settings, settings_path
from gui.settings_dialog import SettingsDialog
from tests.fakes.comfyui_fake import FakeComfyUI
from tests.fakes.comfyui_helpers import fake  # noqa: F401  (the shared fixture: one fake server)


@pytest.fixture
def dialog(qtbot):
    def _open(settings: Settings) -> SettingsDialog:
        d = SettingsDialog(settings)
        qtbot.addWidget(d)
        d.show()
        return d
    return _open


@pytest.fixture
def lacking():
    """A server without the image-to-video node and without a text encoder."""
    server = FakeComfyUI(missing_nodes=("LTXVImgToVideo",), clips=()).start()
    yield server
    server.stop()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_server_test_full_lacking_and_unreachable(dialog, qtbot, fake, lacking):  # noqa: F811
    d = dialog(Settings(comfyui_servers={"full": fake.url, "old": lacking.url,
                                         "gone": f"http://127.0.0.1:{closed_port()}"}))
    page = d.comfyui
    d.tabs.setCurrentWidget(page)
    reports = []
    page.tested.connect(reports.append)
    qtbot.mouseClick(page.findChild(QPushButton, "comfyui_test_all"), Qt.LeftButton)
    qtbot.waitUntil(lambda: len(reports) == 3, timeout=60_000)
    by_id = {r.server.id: r for r in reports}
    states = [page.table.item(r, 3).text() for r in range(3)]
    assert states == ["ready", "not ready", "not reachable"]

    full = by_id["full"]
    assert full.ok and full.version == "0.3.64-fake" and full.devices == ["cpu"]
    ltxv = full.sets[0]  # the LTX-Video 0.9 templates: every node, the T5 encoder and both checkpoints are there
    assert ltxv.ready and ltxv.label == "LTX-Video 0.9.x" and not full.missing_nodes
    assert ltxv.checkpoints == {"ltx-video-2b": "ltx-video-2b-v0.9.5.safetensors",
                                "ltx-video-13b": "ltxv-13b-0.9.8-distilled.safetensors"}
    two = next(s for s in full.sets if s.label == "LTX-2 19B")  # the fake has no Gemma encoder: named with its folder
    assert not two.ready and any("LTXAVTextEncoderLoader text_encoder) in models/text_encoders" in m
                                 for m in two.missing_models)

    old = by_id["old"]
    assert old.reachable and not old.ok
    assert [n.node_class for n in old.missing_nodes] == ["LTXVImgToVideo"]
    node = old.missing_nodes[0]
    assert "LTX-Video 0.9.x image-to-video" in node.templates and "ComfyUI-LTXVideo" in node.pack
    assert any(m.startswith("a T5 text encoder") and "models/text_encoders" in m for m in old.missing_models)

    gone = by_id["gone"]
    assert not gone.reachable and "not reachable" in gone.error

    text = page.report.toPlainText()
    for words in ("full (", ": ready for LTX-Video 0.9.x", "ComfyUI 0.3.64-fake; devices: cpu",
                  "LTX-Video 0.9.x (ltx-video-2b, ltx-video-13b): ready",
                  "missing node LTXVImgToVideo (for image-to-video): install ComfyUI-LTXVideo",
                  "missing model a T5 text encoder", "in models/text_encoders",
                  "ltx-2-19b: no checkpoint (put one in ComfyUI's models/checkpoints",
                  "gone (http://127.0.0.1:", "not reachable"):
        assert words in text, words
    # the test only asks: nothing is uploaded or queued
    assert {p for _, p in fake.requests} <= {"/object_info", "/system_stats"}


def test_every_page_round_trips_through_settings_and_settings_json(dialog, tmp_path):
    model = tmp_path / "ltx-2b"
    model.mkdir()
    (model / "model_index.json").write_text(json.dumps({"_class_name": "LTXPipeline"}))
    lora = tmp_path / "dolly-in.safetensors"
    lora.write_bytes(b"lora")
    d = dialog(Settings(comfyui_checkpoints={"ltx-video-2b": "mine.safetensors"}))
    d.services.url_edits["fal_url"].setText("http://127.0.0.1:7001")
    page = d.comfyui
    page.table.item(0, 0).setText("home")  # the default server, given an id
    row = page.add_server("", "192.168.1.20:8188", 2.5)  # a bare host:port means http; the id is host:port
    assert row == 1
    d.local.folder.setText(str(model))
    d.local.device.setCurrentIndex(d.local.device.findData("cpu"))
    d.local.idle.setValue(60)
    d.local.loras["dolly_forward"].setText(str(lora))
    d.rendering.concurrency["veo"].setValue(1)
    d.rendering.concurrency["comfyui"].setValue(4)
    assert d.problems() == []
    new = d.result_settings()
    assert new.fal_url == "http://127.0.0.1:7001"
    assert new.comfyui_servers == {"home": "http://127.0.0.1:8188", "192.168.1.20:8188": "http://192.168.1.20:8188"}
    assert new.comfyui_server_weights == {"192.168.1.20:8188": 2.5}  # 1.0 is the default: not stored
    assert new.comfyui_url == "home=http://127.0.0.1:8188,http://192.168.1.20:8188"
    from providers.ltx.comfyui_servers import configured_servers
    assert [(x.id, x.url) for x in configured_servers(new)] == list(new.comfyui_servers.items())  # as renders see them
    assert new.ltx_local_path == str(model) and new.ltx_local_device == "cpu" and new.ltx_local_idle_s == 60
    assert new.ltx_camera_loras == {"dolly_forward": str(lora)}
    assert new.concurrency_for("veo") == 1 and new.concurrency_for("comfyui") == 4
    assert new.concurrency_for("ltx-video") == 3  # left at the default: follows the default later
    assert "ltx-video" not in new.render_concurrency
    assert new.comfyui_checkpoints == {"ltx-video-2b": "mine.safetensors"}  # a setting no page shows is kept

    save_settings(new)
    saved = json.loads(settings_path().read_text(encoding="utf-8"))
    assert saved["comfyui_servers"]["home"] == "http://127.0.0.1:8188" and saved["ltx_local_device"] == "cpu"
    again = dialog(load_settings())  # a second dialog shows what the first saved
    assert [r[:2] for r in again.comfyui.rows()] == [("home", "http://127.0.0.1:8188"),
                                                    ("192.168.1.20:8188", "http://192.168.1.20:8188")]
    assert [r[2] for r in again.comfyui.rows()] == [1.0, 2.5]
    assert again.local.folder.text() == str(model) and again.local.device.currentData() == "cpu"
    assert again.local.loras["dolly_forward"].text() == str(lora)
    assert again.rendering.concurrency["veo"].value() == 1
    assert again.result_settings() == load_settings()


def test_every_problem_is_listed_at_once_and_the_dialog_stays_open(dialog, qtbot, tmp_path):
    not_a_model = tmp_path / "empty"
    not_a_model.mkdir()
    d = dialog(Settings(comfyui_servers={"a": "http://127.0.0.1:8188"}))
    d.services.url_edits["replicate_url"].setText("replicate.example")  # no scheme
    d.comfyui.add_server("a", "http://127.0.0.1:8189")                   # the same id twice
    d.comfyui.add_server("", "http://:8188")                             # no host
    d.local.folder.setText(str(tmp_path / "missing"))
    d.local.loras["crane_up"].setText(str(not_a_model))                   # a folder, not a LoRA file
    qtbot.mouseClick(d.findChild(QDialogButtonBox).button(QDialogButtonBox.Ok), Qt.LeftButton)
    assert d.isVisible() and d.result() != QDialog.Accepted
    text = d.error.text()
    for words in ("Replicate address: 'replicate.example' is not an address",
                  "ComfyUI servers 1 and 2 are both named 'a'",
                  "ComfyUI server 3: 'http://:8188' is not an address",
                  f"Model folder: {tmp_path / 'missing'} does not exist",
                  f"Camera LoRA crane up: {not_a_model} is not a file"):
        assert words in text, (words, text)
    assert d.tabs.currentWidget() is d.services  # the first page with a problem
    d.comfyui.test_rows([2])  # an entry that is not an address is not asked
    assert d.comfyui.table.item(2, 3).text() == "not testable"
    assert "row 3: not testable: 'http://:8188' is not an address" in d.comfyui.report.toPlainText()
    d.local.folder.setText(str(not_a_model))
    assert any("holds no diffusers LTX pipeline" in p for p in d.problems())
    # fixed: OK closes the dialog
    d.services.url_edits["replicate_url"].clear()
    d.comfyui.table.removeRow(2)
    d.comfyui.table.item(1, 0).setText("b")
    d.local.folder.clear()
    d.local.loras["crane_up"].clear()
    qtbot.mouseClick(d.findChild(QDialogButtonBox).button(QDialogButtonBox.Ok), Qt.LeftButton)
    assert d.result() == QDialog.Accepted and not d.isVisible()


def test_the_device_list_offers_what_this_machine_has_and_the_cpu(dialog, qtbot):
    from providers.ltx.local_device import detect_cached

    d = dialog(Settings(ltx_local_device="mps"))
    local = d.local
    # before the check answers: automatic, the CPU and the saved choice
    assert [local.device.itemData(i) for i in range(local.device.count())] == [None, "cpu", "mps"]
    with qtbot.waitSignal(local.device_checked, timeout=120_000):
        d.tabs.setCurrentWidget(local)  # shown: the GPU check starts (torch loads on a worker thread)
    found = detect_cached()
    offered = [local.device.itemData(i) for i in range(local.device.count())]
    gpu = [found.kind] if found.kind in ("cuda", "mps") else []
    saved = [] if "mps" in gpu else ["mps"]  # a saved choice this machine lacks stays, marked
    assert offered == [None, *gpu, "cpu", *saved]
    assert local.device.currentData() == "mps"
    if saved:
        assert "not found here" in local.device.currentText()
    assert local.device_note.text()


def test_opening_the_dialog_loads_neither_torch_nor_aiohttp():
    """The GPU check and the server test load them on worker threads; the dialog opens without waiting for them."""
    import subprocess
    import sys

    code = ("import sys\nfrom PySide6.QtWidgets import QApplication\napp = QApplication([])\n"
            "from core.config import Settings\nfrom gui.settings_dialog import SettingsDialog\n"
            "d = SettingsDialog(Settings())\nd.show()\napp.processEvents()\n"
            "print(sorted(m for m in ('torch', 'aiohttp') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=str(Path(__file__).resolve().parents[2]))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
