"""Every shell command in README.md and Docs/*.md runs as written.

The ```bash, ```sh and ```console blocks are read in order, file by file. Each `python main.py ...` command runs in
a temp folder of its own doc (a later command uses the project an earlier one made), with only `python` replaced by
this interpreter, against the loopback Fal and Replicate fakes (test keys). The input files a command names
(start.png, song.mp3, a.mp4, look.cube, ...) are made there with Pillow / FFmpeg before it runs, unless an earlier
command wrote them.

A command passes when it exits 0 (or the code its `# exits: N` comment states), prints exactly one JSON object on
stdout when it has --json, and writes a playable video where it has -o OUT.mp4 and renders or exports. A command
that truly needs what this machine lacks carries a trailing `# needs: gpu`, `# needs: real key` or
`# needs: comfyui` and is skipped with that reason; an --estimate never needs any. Commands that are not main.py
commands (installers) are skipped by name with the reason in NOT_RUN; any other one fails until it is listed.

`python -m tests.test_doc_commands` lists every command found and what the test does with it;
`python -m tests.test_doc_commands Docs/cli.md` runs one doc the same way and prints what each command printed.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```(bash|sh|console)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
NEEDS = re.compile(r"\bneeds:\s*(gpu|real key|comfyui)\b")
EXITS = re.compile(r"\bexits:\s*(\d+)\b")

# what is not a main.py command, by program name, and why it is not run here
NOT_RUN = {
    "apt-get": "installs system packages (README's set-up; .ci/run installs them on a fresh machine)",
    "pip": "installs Python packages (.ci/run installs the same: requirements.txt, then torch and the [local] extras)",
    "python3 -m venv": "creates the virtual environment (README's set-up; .ci/run makes it)",
    "python -m pytest": "the whole test suite, this test among it (.ci/run runs it)",
    "main.py (the window)": "opens the app window and waits for the user (tests/gui/ drives the window)",
}

INPUT_SUFFIXES = {".png": "image", ".jpg": "image", ".jpeg": "image", ".webp": "image", ".mp3": "audio",
                  ".wav": "audio", ".m4a": "audio", ".mp4": "video", ".mov": "video", ".webm": "video",
                  ".cube": "lut"}
OUTPUT_FLAGS = ("-o", "--output")
VIDEO_OUTPUTS = (".mp4", ".mov", ".webm", ".mkv")
COMMAND_TIMEOUT_S = 240


@dataclass
class Command:
    doc: str            # the file, relative to the repository
    line: int           # where the command starts in it
    text: str           # as written (continuation lines joined), without its trailing comment
    comment: str = ""   # the trailing comment ("" when none)

    @property
    def words(self) -> list[str]:
        try:
            return shlex.split(self.text)
        except ValueError:
            return self.text.split()

    @property
    def needs(self) -> Optional[str]:
        m = NEEDS.search(self.comment)
        return m.group(1) if m else None

    @property
    def exits(self) -> int:
        m = EXITS.search(self.comment)
        return int(m.group(1)) if m else 0

    @property
    def name(self) -> str:
        """"main.py" for a CLI command; otherwise the program (`apt-get`, `pip`, `python -m pytest`)."""
        words = self.words
        while words and (re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]) or words[0] == "sudo"):
            words = words[1:]
        if not words:
            return ""
        prog = Path(words[0]).name
        if re.fullmatch(r"python3?(\.\d+)?", prog) and len(words) > 1:
            if words[1] == "main.py":
                return "main.py" if len(words) > 2 else "main.py (the window)"
            if words[1] == "-m" and len(words) > 2:
                return f"{prog} -m {words[2]}"
        return prog

    @property
    def label(self) -> str:
        return f"{self.doc}:{self.line}"


def split_comment(line: str) -> tuple[str, str]:
    """(command, comment): the comment starts at the first `#` that begins a word outside quotes."""
    quote, escaped = None, False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif ch == "\\" and quote != "'":
            escaped = True
        elif quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1:].strip()
    return line.rstrip(), ""


def extract(markdown: str, doc: str) -> list[Command]:
    """Every command of the shell blocks, in order. In a console block only `$ ` lines are commands (the rest is
    output); a trailing backslash continues a command on the next line."""
    commands: list[Command] = []
    for block in FENCE.finditer(markdown):
        kind, body = block.group(1), block.group(2)
        first_line = markdown.count("\n", 0, block.start(2)) + 1
        pending: Optional[Command] = None
        for offset, raw in enumerate(body.splitlines()):
            line = raw.strip()
            if pending is not None:
                text, comment = split_comment(line)
                pending.text += " " + text.removesuffix("\\").strip()
                pending.comment = comment
                if not text.endswith("\\"):
                    commands.append(pending)
                    pending = None
                continue
            if kind == "console":
                if not line.startswith("$ "):
                    continue
                line = line[2:].strip()
            if not line or line.startswith("#"):
                continue
            text, comment = split_comment(line)
            cmd = Command(doc=doc, line=first_line + offset, text=text.removesuffix("\\").strip(), comment=comment)
            if text.endswith("\\"):
                pending = cmd
            else:
                commands.append(cmd)
        if pending is not None:
            commands.append(pending)
    return commands


def doc_files() -> list[Path]:
    return [ROOT / "README.md"] + sorted((ROOT / "Docs").glob("*.md"))


def all_commands() -> list[Command]:
    out: list[Command] = []
    for path in doc_files():
        out += extract(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())
    return out


def skip_reason(cmd: Command) -> Optional[str]:
    """Why a command is not run here (None: it runs). Raises AssertionError for a command nobody accounted for."""
    if cmd.needs:
        assert "--estimate" not in cmd.words, (
            f"{cmd.label}: an --estimate spends nothing and needs no {cmd.needs}; remove the mark: {cmd.text}")
        return f"needs: {cmd.needs}"
    if cmd.name == "main.py":
        return None
    assert cmd.name in NOT_RUN, (
        f"{cmd.label}: {cmd.name!r} is not a main.py command and not in NOT_RUN; say there why it is not run "
        f"(or mark it # needs: ...): {cmd.text}")
    return NOT_RUN[cmd.name]


# --- the folder the commands run in ---------------------------------------------------------------------------------
def command_line(cmd: Command) -> str:
    """The command as written, with `python` (where a command starts) replaced by this interpreter."""
    return re.sub(r"(^|[|;&]\s*)(?:\.venv/bin/)?python3?(?=\s)", lambda m: m.group(1) + shlex.quote(sys.executable),
                  cmd.text)


def input_files(cmd: Command) -> list[str]:
    """The media files a command reads (by suffix), not the files it writes (-o / --output)."""
    words = cmd.words
    out = []
    for i, word in enumerate(words):
        if i and words[i - 1] in OUTPUT_FLAGS:
            continue
        m = re.fullmatch(r"\d+(?:\.\d+)?:(.+)", word)  # --keyframe SECONDS:PATH
        path = m.group(1) if m else word
        if Path(path).suffix.lower() in INPUT_SUFFIXES and not path.startswith("-"):
            out.append(path)
    return out


def make_input(path: Path) -> None:
    from tests.media_factory import make_clip, make_lut, make_tone
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = INPUT_SUFFIXES[path.suffix.lower()]
    seed = zlib.crc32(path.name.encode())
    if kind == "image":
        from PIL import Image
        Image.new("RGB", (640, 360), (seed & 0xFF, (seed >> 8) & 0xFF, (seed >> 16) & 0xFF)).save(path)
    elif kind == "audio":
        make_tone(path, seconds=12.0, freq=220 + seed % 440)
    elif kind == "video":
        make_clip(path, width=320, height=180, fps=24, duration=3.0)
    else:
        make_lut(path)


def output_file(cmd: Command) -> Optional[str]:
    words = cmd.words
    for i, word in enumerate(words[:-1]):
        if word in OUTPUT_FLAGS:
            return words[i + 1]
    return None


def check(cmd: Command, proc: subprocess.CompletedProcess, folder: Path) -> Optional[str]:
    """What is wrong with a finished command (None: nothing)."""
    tail = (proc.stderr or "").strip()[-1500:]
    if proc.returncode != cmd.exits:
        return f"exit code {proc.returncode}, the doc says {cmd.exits}\n  stderr: {tail}"
    if "--json" in cmd.words:
        try:
            obj = json.loads(proc.stdout)
        except ValueError:
            return f"--json printed no single JSON object on stdout: {proc.stdout[:500]!r}"
        if not isinstance(obj, dict):
            return f"--json printed {type(obj).__name__}, not an object"
        if cmd.exits and obj.get("exit_code") != cmd.exits:
            return f"--json error object says exit_code {obj.get('exit_code')!r}, the process exited {cmd.exits}"
    out = output_file(cmd)
    if cmd.exits == 0 and out and "--estimate" not in cmd.words and Path(out).suffix.lower() in VIDEO_OUTPUTS:
        from core.video.media import probe
        path = Path(out).expanduser()
        path = path if path.is_absolute() else folder / path
        if not path.is_file():
            return f"exit 0 but {out} was not written"
        info = probe(path)
        if not info.has_video or info.duration <= 0:
            return f"{out} holds no playable video"
    return None


class DocRun:
    """One doc's commands, run in order in one folder; a command runs every earlier one of its doc first."""

    def __init__(self, commands: list[Command], folder: Path, env: dict[str, str]):
        self.commands = commands
        self.folder = folder
        self.env = env
        self.done: dict[int, Optional[str]] = {}  # index -> problem (None: fine, "skipped: ...": not run)
        folder.mkdir(parents=True, exist_ok=True)
        link = folder / "main.py"
        try:
            link.symlink_to(ROOT / "main.py")
        except OSError:  # no symlinks here: a stand-in that runs the real main.py
            link.write_text(f"import runpy, sys\nsys.path.insert(0, {str(ROOT)!r})\n"
                            f"runpy.run_path({str(ROOT / 'main.py')!r}, run_name='__main__')\n", encoding="utf-8")

    def problem(self, index: int) -> Optional[str]:
        for i in range(len(self.done), index + 1):
            self.done[i] = self._run(self.commands[i])
        return self.done[index]

    def _run(self, cmd: Command) -> Optional[str]:
        try:
            reason = skip_reason(cmd)
        except AssertionError as exc:
            return str(exc)
        if reason is not None:
            return f"skipped: {reason}"
        for name in input_files(cmd):
            path = Path(name).expanduser()
            path = path if path.is_absolute() else self.folder / path
            if not path.exists():
                make_input(path)
        try:
            proc = subprocess.run(["bash", "-c", command_line(cmd)], cwd=self.folder, env=self.env,
                                  capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return f"still running after {COMMAND_TIMEOUT_S} s"
        return check(cmd, proc, self.folder)


def command_env(folder: Path, fal_url: str = "", replicate_url: str = "") -> dict[str, str]:
    """A user's shell: test keys, the fakes' addresses, a config folder and home of its own, quick polls."""
    config = folder / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "settings.json").write_text(json.dumps({"poll_interval_s": 0.05, "veo_poll_interval_s": 0.05}),
                                          encoding="utf-8")
    (folder / "home").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGEAI_") and k not in (
        "FAL_KEY", "REPLICATE_API_TOKEN", "GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_API_KEY", "STABILITY_API_KEY",
        "GOOGLE_CLOUD_PROJECT", "GOOGLE_APPLICATION_CREDENTIALS")}
    env.update(IMAGEAI_CONFIG_DIR=str(config), HOME=str(folder / "home"), QT_QPA_PLATFORM="offscreen",
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if fal_url:
        env.update(FAL_KEY="fal-test-key-0001", IMAGEAI_FAL_URL=fal_url)
    if replicate_url:
        env.update(REPLICATE_API_TOKEN="r8_test_token_0001", IMAGEAI_REPLICATE_URL=replicate_url)
    return env


# --- the tests ------------------------------------------------------------------------------------------------------
COMMANDS = all_commands()
BY_DOC: dict[str, list[Command]] = {}
for _c in COMMANDS:
    BY_DOC.setdefault(_c.doc, []).append(_c)


@pytest.fixture(scope="module")
def fakes():
    from tests.fakes.fal_fake import FalFake
    from tests.fakes.replicate_fake import ReplicateFake
    fal, rep = FalFake(latency=0.05).start(), ReplicateFake(latency=0.05).start()
    yield fal.url, rep.url
    fal.stop()
    rep.stop()


@pytest.fixture(scope="module")
def runs(fakes, tmp_path_factory):
    made: dict[str, DocRun] = {}

    def run_for(doc: str) -> DocRun:
        if doc not in made:
            folder = tmp_path_factory.mktemp(re.sub(r"\W+", "_", doc))
            made[doc] = DocRun(BY_DOC[doc], folder / "work", command_env(folder, *fakes))
        return made[doc]
    return run_for


@pytest.mark.skipif(not sys.platform.startswith(("linux", "darwin")), reason="the commands are bash commands")
@pytest.mark.parametrize("cmd", COMMANDS, ids=[f"{c.label} {c.text[:60]}" for c in COMMANDS])
def test_the_doc_command_runs_as_written(cmd: Command, runs):
    run = runs(cmd.doc)
    index = run.commands.index(cmd)
    problem = run.problem(index)
    if problem is not None and problem.startswith("skipped: "):
        pytest.skip(problem.removeprefix("skipped: "))
    earlier = [f"{c.label} {c.text}: {p.splitlines()[0]}" for i, c in enumerate(run.commands[:index])
               if (p := run.done.get(i)) and not p.startswith("skipped: ")]
    note = ("\nearlier commands of this doc that failed (this one may depend on them):\n  " + "\n  ".join(earlier)
            if earlier else "")
    assert problem is None, f"{cmd.label}: {cmd.text}\n  {problem}{note}"


def test_the_docs_hold_the_commands_a_user_starts_with():
    names = [c.name for c in BY_DOC["README.md"]]
    assert names[:2] == ["apt-get", "pip"], "README's set-up and test command come first"
    runnable = [c for c in COMMANDS if c.name == "main.py" and not c.needs]
    for doc in ("README.md", "Docs/cli.md", "Docs/projects.md"):
        assert any(c.doc == doc for c in runnable), f"{doc} has no command this test runs"
    texts = " ".join(c.text for c in runnable)
    for command in ("project new", "project add-scene", "project render", "project info", "project export",
                    "--estimate", "--json"):
        assert command in texts, f"no doc shows {command!r} in a command that runs"


# --- the test of the test: what it reads, and that it fails on what it should ---------------------------------------
SAMPLE = '''Intro `python main.py --inline` is not a block.

```bash
# a comment line
python main.py --provider animatic -p "A # in quotes" -o a.mp4   # writes a.mp4
python main.py local check     # needs: gpu; shows the accelerator
python main.py lora train --data ./clips \\
    --output style.safetensors # needs: gpu
sudo apt-get install -y ffmpeg && .venv/bin/pip install x
```

```
python main.py synopsis [FLAGS]
```

```console
$ python main.py --provider nope -p x -o b.mp4   # exits: 2
error: provider: unknown provider 'nope'
```

```python
print("not a shell block")
```
'''


def test_commands_are_read_with_their_comments_continuations_and_marks():
    cmds = extract(SAMPLE, "sample.md")
    assert [(c.line, c.name, c.needs, c.exits) for c in cmds] == [
        (5, "main.py", None, 0), (6, "main.py", "gpu", 0), (7, "main.py", "gpu", 0), (9, "apt-get", None, 0),
        (17, "main.py", None, 2)]
    assert cmds[0].words[-4:] == ["-p", "A # in quotes", "-o", "a.mp4"] and cmds[0].comment == "writes a.mp4"
    assert cmds[2].text == "python main.py lora train --data ./clips --output style.safetensors"
    assert input_files(cmds[0]) == [] and output_file(cmds[0]) == "a.mp4"
    assert command_line(cmds[0]).startswith(shlex.quote(sys.executable) + " main.py ")
    assert input_files(Command("d", 1, "python main.py project add-scene P --image s.png --keyframe 2:k.jpg "
                                       "--music m.mp3 -o out.mp4")) == ["s.png", "k.jpg", "m.mp3"]


def test_an_unmarked_failing_command_fails_a_marked_one_is_skipped_and_an_unknown_program_is_refused(tmp_path):
    doc = """```bash
python main.py --provider nope -p x -o bad.mp4
python main.py --provider nope -p x -o bad.mp4   # exits: 2
python main.py --provider nope -p x --json --estimate   # exits: 2
python main.py --provider ltx-video -p x -o fox.mp4   # needs: real key
python main.py --provider animatic -p x --estimate --json   # needs: real key
python main.py --provider animatic -p "A fox" --duration 1 --image start.png -o fox.mp4
curl https://example.com
```
"""
    cmds = extract(doc, "t.md")
    run = DocRun(cmds, tmp_path / "work", command_env(tmp_path))
    problems = [run.problem(i) for i in range(len(cmds))]
    assert problems[0].startswith("exit code 2, the doc says 0") and "unknown provider 'nope'" in problems[0]
    assert problems[1] is None and problems[2] is None
    assert problems[3] == "skipped: needs: real key"
    assert "an --estimate spends nothing" in problems[4]
    assert problems[5] is None and (tmp_path / "work" / "start.png").is_file()  # made because the command names it
    assert "'curl' is not a main.py command and not in NOT_RUN" in problems[6]


def test_a_command_that_claims_an_output_it_did_not_write_fails(tmp_path):
    cmd = Command("t.md", 1, "python main.py --provider animatic -p x -o missing.mp4")
    done = subprocess.CompletedProcess([], 0, stdout="", stderr="")
    assert check(cmd, done, tmp_path) == "exit 0 but missing.mp4 was not written"
    json_cmd = Command("t.md", 1, "python main.py project info P --json")
    assert "no single JSON object" in check(json_cmd, subprocess.CompletedProcess([], 0, "not json", ""), tmp_path)


def _show(doc: str) -> None:
    """Run one doc's commands as the test does and print what each printed (to keep the docs' sample output true)."""
    import tempfile

    from tests.fakes.fal_fake import FalFake
    from tests.fakes.replicate_fake import ReplicateFake
    with FalFake(latency=0.05) as fal, ReplicateFake(latency=0.05) as rep, tempfile.TemporaryDirectory() as tmp:
        env = command_env(Path(tmp), fal.url, rep.url)
        run = DocRun(BY_DOC[doc], Path(tmp) / "work", env)
        for cmd in run.commands:
            print(f"$ {cmd.text}")
            if skip_reason(cmd) is not None:
                print("  (not run)")
                continue
            for name in input_files(cmd):
                if not (run.folder / name).exists():
                    make_input(run.folder / name)
            proc = subprocess.run(["bash", "-c", command_line(cmd)], cwd=run.folder, env=env, capture_output=True,
                                  text=True, timeout=COMMAND_TIMEOUT_S, stdin=subprocess.DEVNULL)
            print(proc.stdout + proc.stderr + f"[exit {proc.returncode}]")


if __name__ == "__main__":
    if len(sys.argv) > 1:  # python -m tests.test_doc_commands Docs/cli.md
        _show(sys.argv[1])
        sys.exit(0)
    for c in COMMANDS:
        try:
            what = skip_reason(c) or "runs"
        except AssertionError as exc:
            what = f"FAILS: {exc}"
        print(f"{c.label:28} {c.name:20} {what[:50]:50} {c.text[:80]}")
