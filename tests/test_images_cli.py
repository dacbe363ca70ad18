"""`python main.py image ...` in a subprocess, as a user runs it, against the loopback fakes: the image written at the
asked size with one JSON object describing it, an estimate that spends nothing, typed errors as exit codes and
--json error objects, and the key in no output and no file."""
from __future__ import annotations

import json

import pytest

from tests.cli_helpers import cli_env, run_cli
from tests.fakes.clips import write_image
from tests.images_support import KEYS, openai_fake, size_of, stability_fake  # noqa: F401

OPENAI_KEY = KEYS["openai"][1]
STABILITY_KEY = KEYS["stability"][1]


def env_for(fake, name: str, config_dir, **extra) -> dict:
    url = {"openai": "IMAGEAI_OPENAI_URL", "stability": "IMAGEAI_STABILITY_URL"}[name]
    var, key = KEYS[name]
    return cli_env(**{url: fake.url + ("/v1" if name == "openai" else ""), var: key,
                      "IMAGEAI_CONFIG_DIR": str(config_dir), **extra})


def no_key_anywhere(key: str, proc, *folders) -> None:
    assert key not in proc.stdout and key not in proc.stderr
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                assert key.encode() not in path.read_bytes(), path


def test_an_image_with_references_lands_at_the_asked_size_and_json_describes_it(openai_fake, tmp_path,
                                                                                isolated_config):
    ref = write_image(tmp_path / "hero.png", (200, 120))
    out = tmp_path / "images" / "start.png"
    proc = run_cli("image", "--provider", "openai", "--model", "gpt-image-1.5", "-p", "the hero at dawn", "-o", out,
                   "--size", "1280x720", "--reference", ref, "--variants", "2", "--json",
                   env=env_for(openai_fake, "openai", isolated_config))
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert [i["path"] for i in payload["images"]] == [str(tmp_path / "images" / f"start-{n}.png") for n in (1, 2)]
    assert all(size_of(tmp_path / "images" / f"start-{n}.png") == (1280, 720) for n in (1, 2))
    assert payload["mode"] == "reference-images" and payload["references"] == [str(ref)]
    assert payload["cost"] == pytest.approx(2 * 0.051) and payload["sent"]["size"] == "1536x1024"
    assert any(a["field"] == "size" for a in payload["adjustments"])
    assert openai_fake.last()["path"] == "/v1/images/edits"
    no_key_anywhere(OPENAI_KEY, proc, tmp_path, isolated_config)


def test_an_estimate_prices_and_sends_nothing(stability_fake, tmp_path, isolated_config):
    proc = run_cli("image", "--provider", "stability", "--model", "stable-image-ultra", "-p", "a fox", "-o",
                   tmp_path / "f.png", "--variants", "3", "--seed", "9", "--estimate", "--json",
                   env=env_for(stability_fake, "stability", isolated_config))
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["estimated_cost"] == pytest.approx(0.24) and payload["requests"] == 3
    assert stability_fake.counts["submit_attempts"] == 0 and not (tmp_path / "f-1.png").exists()


def test_a_content_refusal_exits_1_with_a_json_error(stability_fake, tmp_path, isolated_config):
    proc = run_cli("image", "--provider", "stability", "-p", "FORBIDDEN", "-o", tmp_path / "x.png", "--json",
                   env=env_for(stability_fake, "stability", isolated_config))
    assert proc.returncode == 1
    error = json.loads(proc.stdout)
    assert error["error_kind"] == "content_rejected" and "content moderation" in error["error"]
    no_key_anywhere(STABILITY_KEY, proc, tmp_path, isolated_config)


def test_a_rejected_key_exits_3_and_is_never_shown(openai_fake, tmp_path, isolated_config):
    bad = "sk-revoked-SHOWN-NOWHERE-42"
    proc = run_cli("image", "--provider", "openai", "-p", "a fox", "-o", tmp_path / "x.png", "--json", "--verbose",
                   env=env_for(openai_fake, "openai", isolated_config, OPENAI_API_KEY=bad))
    assert proc.returncode == 3
    assert json.loads(proc.stdout)["error_kind"] == "auth"
    no_key_anywhere(bad, proc, tmp_path, isolated_config)


def test_no_key_exits_3_naming_where_to_put_it(tmp_path, isolated_config):
    proc = run_cli("image", "--provider", "openai", "-p", "a fox", "-o", tmp_path / "x.png",
                   env=cli_env(IMAGEAI_CONFIG_DIR=str(isolated_config), OPENAI_API_KEY=""))
    assert proc.returncode == 3 and "OPENAI_API_KEY" in proc.stderr


@pytest.mark.parametrize("args,field", [(["--size", "1280by720"], "size"), (["-o", "x.gif"], "output"),
                                        (["--provider", "midjourney"], "provider")])
def test_bad_input_exits_2_naming_the_field(tmp_path, isolated_config, args, field):
    base = ["image", "-p", "a fox", "-o", str(tmp_path / "x.png"), "--estimate"]
    proc = run_cli(*base, *args, env=cli_env(IMAGEAI_CONFIG_DIR=str(isolated_config)))
    assert proc.returncode == 2 and f"{field}:" in proc.stderr


def test_the_list_shows_each_provider_and_its_prices_offline(tmp_path, isolated_config):
    proc = run_cli("image", "--list", "--json", env=cli_env(IMAGEAI_CONFIG_DIR=str(isolated_config),
                                                            OPENAI_API_KEY=""))
    assert proc.returncode == 0, proc.stderr
    providers = {p["name"]: p for p in json.loads(proc.stdout)["providers"]}
    assert list(providers) == ["google", "openai", "stability", "local-sd"]
    assert not providers["openai"]["available"] and "OPENAI_API_KEY" in providers["openai"]["reason"]
    assert providers["stability"]["models"][0]["price_per_image"] == {"*": 0.03}
