"""Keys: resolution order, the 0600 file fallback, and that a key never reaches files, logs, JSON or errors."""
import json
import logging
import os
import stat

import pytest

from core import secrets
from tests.cli_helpers import cli_env, make_image, run_cli, run_json

KEY = "fal-key-SECRET-0123456789abcdef"


def test_resolution_order(monkeypatch):
    assert secrets.get_key("fal") is None
    assert secrets.set_key("fal", "stored-key-123456") == "file"  # no keyring backend in tests
    assert secrets.key_source("fal") == "file"
    monkeypatch.setenv("FAL_KEY", "env-key-123456")
    assert secrets.get_key("fal") == "env-key-123456" and secrets.key_source("fal") == "environment (FAL_KEY)"
    assert secrets.get_key("fal", explicit="arg-key-123456") == "arg-key-123456"
    monkeypatch.setenv("GOOGLE_API_KEY", "google-key-1234")
    assert secrets.get_key("google") == "google-key-1234"
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-key-1234")
    assert secrets.get_key("google") == "gemini-key-1234"
    secrets.delete_key("fal")
    monkeypatch.delenv("FAL_KEY")
    assert secrets.get_key("fal") is None
    with pytest.raises(ValueError, match="allowed"):
        secrets.get_key("nope")


def test_key_file_is_private(isolated_config):
    secrets.set_key("replicate", "r8_secret_value_123")
    path = isolated_config / "keys.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text())["replicate"] == "r8_secret_value_123"


def test_log_filter_redacts_known_keys(monkeypatch, tmp_path):
    from core.logging_setup import RedactingFilter
    monkeypatch.setenv("FAL_KEY", KEY)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "calling with Authorization: Key %s", (KEY,), None)
    RedactingFilter().filter(record)
    assert KEY not in record.getMessage() and "***" in record.getMessage()


def test_env_key_never_in_project_logs_json_or_errors(tmp_path, isolated_config):
    env = cli_env(FAL_KEY=KEY, REPLICATE_API_TOKEN=KEY + "r", IMAGEAI_CONFIG_DIR=str(isolated_config))
    proj = tmp_path / "p"
    outputs = [run_cli("project", "new", proj, "--name", "Keys", "--json", env=env)]
    outputs.append(run_cli("project", "add-scene", proj, "-p", f"a prompt that mentions {KEY}", "--duration", "1",
                           "--json", env=env))
    outputs.append(run_cli("project", "render", proj, "--json", "--verbose", env=env))
    outputs.append(run_cli("project", "info", proj, "--json", env=env))
    outputs.append(run_cli("--provider", "animatic", "-p", KEY, "--resolution", "9000p", "-o", tmp_path / "x.mp4",
                           env=env))
    for proc in outputs:
        assert KEY not in proc.stdout and KEY not in proc.stderr
    assert outputs[-1].returncode == 2
    assert json.loads(outputs[3].stdout)["scenes"][0]["status"] == "done"
    # the project file holds the user's own prompt text, but nothing the app itself adds carries the key
    text = (proj / "project.json").read_text()
    assert text.count(KEY) == 1  # the prompt the user typed, verbatim, and nothing else
    for log in (isolated_config / "logs").glob("*.log*"):
        assert KEY not in log.read_text()
