"""Redaction benchmark: what masking keys costs per log line and per large text, measured in one run against
  1. the previous redact (a loop of str.replace over the plain keys only: fewer forms, so a lower bound), and
  2. the same forms core.redaction masks, done as a loop of str.replace (what one regex replaces).

Keys: one per service (5), fal's as `id:secret`, so 7 secrets and their escaped forms. Texts: a 160-character log
line without a key (the common case), the same line with a key, and 64 KiB of log text with a key every 4 KiB.

    python bench/secret_redaction.py [--rounds 20000]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import redaction  # noqa: E402

KEYS = ["7b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0:0f1e2d3c4b5a69788796a5b4c3d2e1f0", "r8_Xq2Lm9Vb4Nc7Hd1Kf6Jp3Ws8Zt5Ry0Ga",
        "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56",
        "sk-Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp"]


def old_redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


def per_call(fn, text: str, rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        fn(text)
    return (time.perf_counter() - start) / rounds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20000)
    rounds = ap.parse_args().rounds
    for key in KEYS:
        redaction.remember_secret(key)
    plain = sorted(redaction.known_secrets(), key=len, reverse=True)
    forms: set[str] = set()
    for secret in plain:
        forms |= redaction._escaped_forms(secret)
    all_forms = sorted(forms, key=len, reverse=True)
    line = "2025-01-01 12:00:00 INFO providers.ltx.fal_backend: fal: status IN_PROGRESS, queue position 0, " \
           "logs 3 new lines, elapsed 12.5 s, request 0a1b2c3d4e5f"
    texts = {"line, no key": line, "line with a key": line[:80] + KEYS[0] + line[80:],
             "64 KiB, key every 4 KiB": "".join((line * 26)[:4000] + KEYS[i % 5] for i in range(16))}
    start = time.perf_counter()
    redaction._pattern = None
    redaction.redact("warm")
    build = time.perf_counter() - start
    print(f"{len(plain)} secrets, {len(all_forms)} forms; regex build {build * 1e3:.2f} ms (once per new key)")
    print(f"{'text':<26}{'ours':>11}{'old (plain)':>14}{'loop (forms)':>14}{'vs old':>9}{'vs loop':>9}")
    for name, text in texts.items():
        n = rounds if len(text) < 1000 else max(50, rounds // 200)
        ours = per_call(redaction.redact, text, n)
        old = per_call(lambda t: old_redact(t, plain), text, n)
        loop = per_call(lambda t: old_redact(t, all_forms), text, n)
        assert redaction.redact(text) == old_redact(text, all_forms)  # the same masking, one scan
        print(f"{name:<26}{ours * 1e6:>9.2f}us{old * 1e6:>12.2f}us{loop * 1e6:>12.2f}us"
              f"{ours / old:>8.2f}x{ours / loop:>8.2f}x")


if __name__ == "__main__":
    main()
