"""Keys: resolution order, the 0600 file fallback, and that a key never reaches files, logs, JSON or errors."""
import base64
import json
import logging
import os
import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, quote_plus

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


# ---- pasted keys: trimmed wherever they are read, refused (without quoting them) when still broken ----
FAL_ID, FAL_SECRET = "Qz7Wm3Kp-9e1d", "Hs8dLq4NfW1cJ6vZgTe5yUoB"
FAL = f"{FAL_ID}:{FAL_SECRET}"


class MemoryKeyring:
    """A keyring backend kept in memory: the real keyring API, no desktop service."""

    def __init__(self):
        import keyring.backend

        class Backend(keyring.backend.KeyringBackend):
            priority = 1
            store: dict = {}

            def get_password(self, service, username):
                return self.store.get((service, username))

            def set_password(self, service, username, password):
                self.store[(service, username)] = password

            def delete_password(self, service, username):
                self.store.pop((service, username), None)

        self.backend = Backend()


@pytest.fixture
def memory_keyring():
    import keyring
    previous = keyring.get_keyring()
    ring = MemoryKeyring().backend
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


def assert_no_part_of_key(text: str, key: str = FAL) -> None:
    for piece in (key, *key.split(":")):
        assert piece not in text
    body = key.replace(":", "")
    for i in range(len(body) - 7):  # no 8 characters of it in a row either
        assert body[i:i + 8] not in text, body[i:i + 8]


@pytest.mark.parametrize("raw", [FAL + "\n", FAL + "\r\n", f"  {FAL}\r\n\t", "\ufeff" + FAL + "\r"])
def test_a_pasted_key_is_trimmed_from_every_source(raw, monkeypatch, isolated_config, memory_keyring):
    assert secrets.get_key("fal", explicit=raw) == FAL
    monkeypatch.setenv("FAL_KEY", raw)
    assert secrets.get_key("fal") == FAL and secrets.key_problem("fal") is None
    monkeypatch.delenv("FAL_KEY")
    memory_keyring.set_password(secrets.KEYRING_SERVICE, "fal", raw)
    assert secrets.get_key("fal") == FAL and secrets.key_source("fal") == "keyring"
    memory_keyring.store.clear()
    assert secrets.set_key("fal", raw) == "keyring"
    assert memory_keyring.get_password(secrets.KEYRING_SERVICE, "fal") == FAL  # stored trimmed


def test_a_pasted_key_is_trimmed_in_the_key_file(isolated_config):
    (isolated_config / "keys.json").write_text(json.dumps({"replicate": "r8_Gh5Jk2Lp9Qs4Wd7Ez\r\n"}))
    assert secrets.get_key("replicate") == "r8_Gh5Jk2Lp9Qs4Wd7Ez" and secrets.key_source("replicate") == "file"
    assert secrets.set_key("fal", FAL + "\r\n") == "file"
    assert json.loads((isolated_config / "keys.json").read_text())["fal"] == FAL


def test_a_whitespace_only_key_counts_as_none(monkeypatch):
    monkeypatch.setenv("FAL_KEY", "\r\n")
    assert secrets.get_key("fal") is None and secrets.key_source("fal") is None


@pytest.mark.parametrize("raw, what, position", [
    (f"{FAL_ID}:{FAL_SECRET[:10]}\r\n{FAL_SECRET[10:]}", "control character (CR)", len(FAL_ID) + 12),
    (f"{FAL}\n{FAL}\n", "control character (LF)", len(FAL) + 1),
    (f"{FAL_ID}\t:{FAL_SECRET}", "control character (tab)", len(FAL_ID) + 1),
    (f"{FAL_ID}:{FAL_SECRET[:5]}\u00a0{FAL_SECRET[5:]}", "outside printable ASCII (U+00A0)", len(FAL_ID) + 7),
    (f"{FAL_ID}: {FAL_SECRET}", "space", len(FAL_ID) + 2),
])
def test_a_broken_key_is_refused_without_quoting_it(raw, what, position, monkeypatch):
    monkeypatch.setenv("FAL_KEY", raw)
    with pytest.raises(secrets.AuthError) as err:
        secrets.get_key("fal")
    message = str(err.value)
    assert message.startswith("the fal key in the environment variable FAL_KEY contains a ")
    assert f"{what} at position {position}; paste it again" in message
    assert err.value.exit_code == 3 and err.value.kind == "auth"
    assert_no_part_of_key(message)
    assert secrets.key_problem("fal") == message and secrets.key_source("fal") == "environment (FAL_KEY)"
    with pytest.raises(secrets.AuthError, match="given as an argument contains"):
        secrets.get_key("fal", explicit=raw)
    with pytest.raises(secrets.AuthError, match="the fal key to save contains"):
        secrets.set_key("fal", raw)
    assert secrets.get_key("fal", explicit=FAL + "\n") == FAL  # a good argument still wins over the broken env
    assert_no_part_of_key(secrets.redact(f"echo {raw!r} {json.dumps(raw)}"))


def test_a_broken_stored_key_names_where_it_is(isolated_config, memory_keyring):
    memory_keyring.set_password(secrets.KEYRING_SERVICE, "replicate", "r8_Gh5Jk2Lp\x0b9Qs4Wd7Ez")
    with pytest.raises(secrets.AuthError, match=r"replicate key saved in the system keyring \(imageai-video/"
                                                r"replicate\) contains a control character \(U\+000B\) at position 12"):
        secrets.get_key("replicate")


# ---- the CLI: a broken key stops before any request; a trimmed one is sent clean and masked when echoed ----
REP = "r8_Xq2Lm9Vb4Nc7Hd1Kf6Jp3Ws8Zt5Ry0Ga"


def files_text(*folders) -> str:
    """Every file under the folders, as text (a key is ASCII, so a binary file shows it too)."""
    out = []
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                out.append(f"{path}\n" + path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(out)


def assert_nothing_leaks(procs, folders, keys=(FAL, REP)) -> None:
    seen = "\n".join(p.stdout + p.stderr for p in procs) + files_text(*folders)
    for key in keys:
        assert_no_part_of_key(seen, key)
        for form in (json.dumps(key), quote(key, safe=""), quote_plus(key), base64.b64encode(key.encode()).decode()):
            assert form not in seen


@pytest.mark.parametrize("fal_raw, rep_raw", [
    pytest.param(f"{FAL}\r\n{FAL}\r\n", f"{REP}\r\n{REP}\r\n", id="pasted-twice"),
    pytest.param(f"{FAL_ID}:{FAL_SECRET[:9]}\r\n{FAL_SECRET[9:]}\r\n", f"{REP[:17]}\r{REP[17:]}\n", id="broken-inside"),
])
@pytest.mark.parametrize("deployment, var", [("fal", "FAL_KEY"), ("replicate", "REPLICATE_API_TOKEN")])
def test_cli_refuses_a_broken_key_before_any_request(fal_raw, rep_raw, deployment, var, tmp_path, isolated_config):
    # no server anywhere: the URL points at a closed port, so only the key check can end the command quickly
    env = cli_env(FAL_KEY=fal_raw, REPLICATE_API_TOKEN=rep_raw, IMAGEAI_CONFIG_DIR=str(isolated_config),
                  IMAGEAI_FAL_URL="http://127.0.0.1:9", IMAGEAI_REPLICATE_URL="http://127.0.0.1:9")
    out = tmp_path / "out"
    out.mkdir()
    base = ("--provider", "ltx-video", "--deployment", deployment, "-p", "x", "-o", out / "out.mp4")
    procs = [run_cli(*base, env=env), run_cli(*base, "--json", "--verbose", env=env)]
    for proc in procs:
        assert proc.returncode == 3, proc.stderr
        assert f"the {deployment} key in the environment variable {var} contains a control character (" in proc.stderr
        assert "paste it again" in proc.stderr
    answer = json.loads(procs[1].stdout)
    assert answer["error_kind"] == "auth" and answer["exit_code"] == 3 and var in answer["error"]
    assert not (out / "out.mp4").exists()
    assert_nothing_leaks(procs, [tmp_path, isolated_config])


class EchoingService:
    """A service on 127.0.0.1 that refuses every request with 401 and quotes the credentials back in every form a
    careless service might: whole, the secret half alone, URL-encoded, JSON-escaped, base64 (basic auth)."""

    def __init__(self):
        self.auth: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _refuse(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                auth = self.headers.get("Authorization") or ""
                owner.auth.append(auth)
                token = auth.partition(" ")[2]
                echo = (f"invalid credentials {auth!r}; secret {token.partition(':')[2]}; url {quote_plus(token)}; "
                        f"json {json.dumps(token)}; basic {base64.b64encode(token.encode()).decode()}")
                body = json.dumps({"detail": echo, "title": "Unauthenticated", "status": 401}).encode()
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _refuse

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("deployment, scheme, key", [("fal", "Key", FAL), ("replicate", "Bearer", REP)])
def test_cli_sends_a_trimmed_key_and_masks_it_when_echoed(deployment, scheme, key, tmp_path, isolated_config):
    with EchoingService() as service:
        env = cli_env(FAL_KEY=FAL + "\r\n", REPLICATE_API_TOKEN=f" {REP}\n", IMAGEAI_CONFIG_DIR=str(isolated_config),
                      IMAGEAI_FAL_URL=service.url, IMAGEAI_REPLICATE_URL=service.url)
        proc = run_cli("--provider", "ltx-video", "--deployment", deployment, "-p", "x", "-o", tmp_path / "o.mp4",
                       "--json", "--verbose", env=env)
    assert service.auth and set(service.auth) == {f"{scheme} {key}"}  # the key went out clean, CR/LF gone
    assert proc.returncode == 3, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["error_kind"] == "auth" and "invalid credentials" in answer["error"] and "***" in answer["error"]
    assert_nothing_leaks([proc], [tmp_path, isolated_config], keys=(key,))


@pytest.mark.parametrize("deployment", ["fal", "replicate"])
def test_project_render_with_a_broken_key_keeps_it_out_of_the_project(deployment, tmp_path, isolated_config):
    env = cli_env(FAL_KEY=f"{FAL}\r\n{FAL}\r\n", REPLICATE_API_TOKEN=f"{REP[:17]}\r{REP[17:]}\n",
                  IMAGEAI_CONFIG_DIR=str(isolated_config), IMAGEAI_FAL_URL="http://127.0.0.1:9",
                  IMAGEAI_REPLICATE_URL="http://127.0.0.1:9")
    proj = tmp_path / "p"
    procs = [run_cli("project", "new", proj, "--provider", "ltx-video", "--deployment", deployment, env=env),
             run_cli("project", "add-scene", proj, "-p", "a shot", "--duration", "6", env=env)]
    assert all(p.returncode == 0 for p in procs), procs[-1].stderr
    procs.append(run_cli("project", "render", proj, "--json", "--verbose", env=env))
    assert procs[-1].returncode == 3, procs[-1].stderr
    assert json.loads(procs[-1].stdout)["error_kind"] == "auth" and "paste it again" in procs[-1].stderr
    assert_nothing_leaks(procs, [proj, isolated_config])


@pytest.mark.parametrize("deployment, key", [("fal", FAL), ("replicate", REP)])
def test_project_render_records_an_echoed_key_masked(deployment, key, tmp_path, isolated_config):
    with EchoingService() as service:
        env = cli_env(FAL_KEY=FAL + "\r\n", REPLICATE_API_TOKEN=REP + "\r\n", IMAGEAI_CONFIG_DIR=str(isolated_config),
                      IMAGEAI_FAL_URL=service.url, IMAGEAI_REPLICATE_URL=service.url)
        proj = tmp_path / "p"
        procs = [run_cli("project", "new", proj, "--provider", "ltx-video", "--deployment", deployment, env=env),
                 run_cli("project", "add-scene", proj, "-p", "a shot", "--duration", "6", env=env)]
        procs.append(run_cli("project", "render", proj, "--json", "--verbose", env=env))
    assert procs[-1].returncode != 0 and service.auth
    take = json.loads((proj / "project.json").read_text())["scenes"][0]["takes"][-1]
    assert take["error_kind"] == "auth" and "invalid credentials" in take["error"] and "***" in take["error"]
    assert_nothing_leaks(procs, [proj, isolated_config], keys=(key,))
