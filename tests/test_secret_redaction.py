"""Redaction of keys in every form a service, an SDK or our own code may echo them: whole, one half of `id:secret`,
repr/`\\r\\n`-escaped, JSON, URL-encoded, base64 (HTTP basic); and the log filter that applies it."""
import base64
import json
import logging
import re
import sys
from urllib.parse import quote, quote_plus

import pytest

from core import redaction, secrets
from core.logging_setup import RedactingFilter

# printable ASCII that every escape changes: quote, backslash, '+', '/', '&', '=' and a space-free secret half
KEY_ID = "user-Qz7Wm3Kp"
KEY_SECRET = 'Hs8d+Lq4/NfW"1cJ\\6vZ&g=Te5'
KEY = f"{KEY_ID}:{KEY_SECRET}"


@pytest.fixture(autouse=True)
def registered():
    secrets.remember_secret(KEY)


def masked(text: str) -> str:
    out = secrets.redact(text)
    for piece in (KEY, KEY_ID, KEY_SECRET):
        assert piece not in out
    return out


@pytest.mark.parametrize("form", [
    pytest.param(KEY, id="whole"),
    pytest.param(KEY_SECRET, id="secret-half"),
    pytest.param(KEY_ID, id="id-half"),
    pytest.param(repr(KEY + "\r\n")[1:-1], id="repr"),
    pytest.param((KEY + "\r\n").encode("unicode_escape").decode(), id="crlf-escaped"),
    pytest.param(json.dumps(KEY)[1:-1], id="json"),
    pytest.param(json.dumps(KEY_SECRET)[1:-1], id="json-secret-half"),
    pytest.param(quote(KEY, safe=""), id="quote-nosafe"),
    pytest.param(quote(KEY), id="quote"),
    pytest.param(quote_plus(KEY), id="quote_plus"),
    pytest.param(quote_plus(KEY_SECRET), id="quote_plus-secret-half"),
    pytest.param(re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(KEY, safe="")), id="quote-lower-hex"),
    pytest.param(base64.b64encode(KEY.encode()).decode(), id="basic-auth"),
    pytest.param(base64.b64encode(f"{KEY}:".encode()).decode(), id="basic-auth-user-only"),
])
def test_each_escaped_form_is_masked(form):
    out = masked(f"before {form} after")
    assert out.startswith("before ***") and out.endswith(" after"), out
    assert out.removeprefix("before ***").removesuffix(" after") in ("", "\\r\\n"), out  # only the CR LF is left


def test_the_illegal_header_value_message_is_masked():
    # what h11 raised when a pasted key kept its CR/LF: the header quoted whole, as bytes
    message = f"Illegal header value {('Key ' + KEY + chr(13) + chr(10)).encode()!r}"
    assert "***" in masked(message)
    assert "Illegal header value" in masked(message)


def test_json_of_an_error_that_carries_the_key_is_masked():
    line = json.dumps({"error": f"fal: invalid key {KEY}\r\n (secret {KEY_SECRET})", "exit_code": 3})
    out = masked(line)
    assert json.loads(out)["exit_code"] == 3 and "***" in out


def test_short_parts_and_normal_words_are_not_masked():
    secrets.remember_secret("ab:Zr8Kq2Lm9Vb4Nc")
    out = secrets.redact("ab said the secret key of ab is Zr8Kq2Lm9Vb4Nc")
    assert out == "ab said the secret key of ab is ***"
    assert secrets.redact("a normal line of text: 0.5 s") == "a normal line of text: 0.5 s"
    assert "ab" not in redaction.known_secrets()


def test_the_pieces_of_a_key_with_a_line_break_inside_are_masked():
    # a key pasted twice: neither copy, nor the halves, may show even though the key itself is refused
    value = "Mk4Jd8Wq2Zx6:Pv3Ns9Lc5Tb7Rg1Y\r\nMk4Jd8Wq2Zx6:Pv3Ns9Lc5Tb7Rg1Y\r\n"
    secrets.remember_secret(value)
    out = secrets.redact(f"got {value!r} and {json.dumps(value)} and Pv3Ns9Lc5Tb7Rg1Y")
    assert "Mk4Jd8Wq2Zx6" not in out and "Pv3Ns9Lc5Tb7Rg1Y" not in out


def test_a_new_secret_is_masked_at_once():
    before = secrets.redact("token Yb6Tn1Qw8Es3Dx5Cv")
    secrets.remember_secret("Yb6Tn1Qw8Es3Dx5Cv")
    assert before == "token Yb6Tn1Qw8Es3Dx5Cv" and secrets.redact("token Yb6Tn1Qw8Es3Dx5Cv") == "token ***"


def test_environment_keys_are_masked_before_anyone_reads_them(monkeypatch):
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_Gh5Jk2Lp9Qs4Wd7Ez\n")
    assert secrets.redact("Bearer r8_Gh5Jk2Lp9Qs4Wd7Ez") == "Bearer ***"


def _record(msg, args=(), exc_info=None):
    return logging.LogRecord("x", logging.ERROR, __file__, 1, msg, args, exc_info)


def test_log_filter_masks_arguments_tracebacks_and_stacks():
    try:
        raise ValueError(f"Illegal header value {('Key ' + KEY).encode()!r}")
    except ValueError:
        exc_info = sys.exc_info()
    record = _record("sending %s with %s", (quote_plus(KEY), {"auth": KEY_SECRET}), exc_info)
    record.stack_info = f"Stack (most recent call last):\n  header = 'Key {KEY}'"
    RedactingFilter().filter(record)
    text = logging.Formatter("%(message)s").format(record)
    for piece in (KEY, KEY_ID, KEY_SECRET, quote_plus(KEY)):
        assert piece not in text
    assert "ValueError: Illegal header value" in text and "sending ***" in text


def test_log_filter_masks_a_record_whose_format_is_broken(capsys):
    record = _record("two %s %s but one argument", (KEY_SECRET,))
    RedactingFilter().filter(record)
    handler = logging.StreamHandler(sys.stderr)
    handler.handle(record)  # a record logging cannot format is printed raw by handleError: it must be masked
    err = capsys.readouterr().err
    assert KEY_SECRET not in err and "***" in err
