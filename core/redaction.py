"""Masking secrets in any text shown or written: log records, CLI output, error messages, project files.

A registered secret is masked as itself and in the escaped forms it takes when something echoes it: a repr or
`\\r\\n`-escaped string, a JSON string, URL-encoding (quote, quote_plus, either hex case) and base64 (HTTP basic
auth of `id:secret`). A key made of parts (`id:secret`, as fal's) also has each part of 8+ characters masked, so a
service that echoes only the secret half is covered; shorter parts are left alone so ordinary words stay readable.
All forms go into one compiled regex, rebuilt only when the set changes, so redacting a line costs one scan.
"""
from __future__ import annotations

import base64
import json
import re
import threading
from typing import Iterable, Optional
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_SECRET = 6      # a whole value shorter than this is not a key (and masking it would hide normal text)
MIN_PART = 8        # the same for one part of a key
# what separates the parts of a key: fal's `id:secret`, and anything that is not printable ASCII (a pasted key
# with a line break inside is two pieces of one secret)
_PARTS = re.compile(r"[:\x00-\x20\x7f-\U0010ffff]+")

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: Optional[re.Pattern[str]] = None


def _escaped_forms(value: str) -> set[str]:
    forms = {value, value.encode("unicode_escape").decode("ascii"), repr(value)[1:-1],
             json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    for encoded in (quote(value, safe=""), quote(value), quote_plus(value), quote_plus(value, safe="")):
        forms.add(encoded)
        forms.add(re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded))
    raw = value.encode("utf-8")
    for blob in (raw, raw + b":", b":" + raw):  # basic auth of the key as user, or as password
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(blob).decode("ascii")
            forms.add(text)
            forms.add(text.rstrip("="))
    return {f for f in forms if len(f) >= MIN_SECRET}


def secret_pieces(value: Optional[str]) -> set[str]:
    """What of one value gets masked: the value trimmed, and each part long enough to mean something."""
    if not value:
        return set()
    value = value.strip()
    pieces = {value} if len(value) >= MIN_SECRET else set()
    pieces.update(p for p in _PARTS.split(value) if len(p) >= MIN_PART)
    return pieces


def remember_secret(value: Optional[str]) -> None:
    """Register a value (and its parts) to be masked from every log record and message shown to a user."""
    pieces = secret_pieces(value)
    if not pieces or pieces <= _secrets:
        return
    global _pattern
    with _lock:
        _secrets.update(pieces)
        _pattern = None  # rebuilt on the next redact


def remember_secrets(values: Iterable[Optional[str]]) -> None:
    for value in values:
        remember_secret(value)


def known_secrets() -> set[str]:
    return set(_secrets)


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex for many literals, shaped as their prefix tree: each position of a text costs one character-class
    test instead of one test per literal (a flat `a|b|c` of 40+ keys' forms is 20x slower on long texts). Longer
    matches win: the rest of a branch is tried before the word that ends at its root."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict) -> str:
        ends = "" in node
        branches = []
        for char in sorted(k for k in node if k):
            child, run = node[char], [char]
            while len(child) == 1 and "" not in child:  # a chain without branches is one literal
                (char, child), = child.items()
                run.append(char)
            branches.append(re.escape("".join(run)) + build(child))
        if not branches:
            return ""
        single = [b for b in branches if len(b) == 1 or (len(b) == 2 and b[0] == "\\")]
        body = "|".join(branches)
        if len(branches) > 1 and len(single) == len(branches):
            body = "[" + "".join(single) + "]"
        elif len(branches) > 1 or ends:
            body = f"(?:{body})"
        return body + ("?" if ends else "")

    return build(trie)


def _compiled() -> Optional[re.Pattern[str]]:
    global _pattern
    pattern = _pattern
    if pattern is not None or not _secrets:
        return pattern
    with _lock:
        forms: set[str] = set()
        for secret in _secrets:
            forms |= _escaped_forms(secret)
        # a whole key is masked as one match, not as its parts around a leftover ':'
        _pattern = re.compile(_trie_pattern(forms))
        return _pattern


def redact(text: str) -> str:
    """`text` with every known secret, in any of its escaped forms, replaced by ***."""
    pattern = _compiled()
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)
