"""Runs the commands of README.md as a new user would, from a fresh clone (run by scripts/test).

In a scratch folder, with a new virtual environment's `bin/` first on PATH (as if a user had
activated it), the shell blocks of README.md at the committed HEAD run in order, in one
folder that `cd` changes, with `<nbhoist-repo>` standing for this checkout. So the README's
own `git clone <nbhoist-repo> nbhoist` makes the fresh clone, at HEAD, and its
`pip install .` builds and installs nbhoist there with maturin and cargo. Then:

- a `console` block's `$ ` lines are commands, and what each prints (stdout and stderr) must
  be the lines under it, exactly (trailing spaces aside); the exit code is not checked;
- a `sh` block's lines are commands that must exit with 0;
- a block right after `<!-- readme-test: not run: REASON -->` is not run; the set of such
  blocks is NOT_RUN below, so that a new command cannot go untested without a change here;
- a `python` block right after `<!-- readme-test: a cell of PATH -->` must be the source of a
  code cell of that notebook (relative to the clone) once the commands have run;
- a `yaml` block with a `rev:` (the pre-commit snippet) must name this repository as
  `<nbhoist-repo>`, the tag of Cargo.toml's version, and hooks of .pre-commit-hooks.yaml.

A failure shows every command whose output differs, and each block as it should read. With
NBHOIST_README_UPDATE=1 the test also writes those outputs into README.md of this checkout
(when it is README.md as committed), to be reviewed and committed.

Keeping it fast: `pip install .` from the clone is the real thing, yet compiles nothing when
the working tree is clean. Then cargo builds in this checkout's target/ (or CARGO_TARGET_DIR),
where scripts/test has just made the release build, and the clone's files are given the
modification times of this checkout's identical files, so that cargo finds that build up to
date for the clone exactly as it does for this checkout: the install takes seconds. With
local changes the clone (HEAD) differs from the build, so cargo builds in
target/pre-commit-build, as tests/python/test_precommit.py does, and the environment nbhoist
was installed into is kept in target/readme-test/<HEAD commit>: it is built once per commit
(the caches of other commits are removed), and later runs at that commit skip `pip install .`.

Skipped, with the reason printed, without bash, git or cargo, or outside a git checkout.
`pip install .` needs PyPI (it fetches maturin). Run alone with:
    target/test-venv/bin/python -m unittest discover -s tests/python -p test_readme.py
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from checkout import ROOT, commit_cache, environment, git, missing, target_dir

PLACEHOLDER = "<nbhoist-repo>"
SHELL_LANGUAGES = {"sh", "bash", "shell", "console"}
# The first command of each block that README.md marks `not run`, and why it cannot run here.
NOT_RUN = {
    "pip install nbhoist": "nbhoist is not on PyPI yet",
    "cargo install --locked --path .": "a release build of minutes, into ~/.cargo/bin",
    "scripts/test": "the command that runs this test",
}
MARKER = re.compile(r"^<!--\s*readme-test:\s*(.*?)\s*-->$")
FENCE = re.compile(r"^```(\w*)\s*$")
UPDATE = "NBHOIST_README_UPDATE"


@dataclasses.dataclass
class Command:
    text: str
    line: int  # 1-based line of README.md
    # console blocks: the output README.md shows, and where (lines [start, end) 0-based)
    expected: list[str] | None = None
    span: tuple[int, int] = (0, 0)
    actual: list[str] | None = None


@dataclasses.dataclass
class Block:
    language: str
    line: int  # 1-based line of the first line inside the fence
    lines: list[str]
    marker: str | None
    commands: list[Command] = dataclasses.field(default_factory=list)


def parse(text: str) -> list[Block]:
    """The fenced blocks of a Markdown text, with the marker comment right before each."""
    lines = text.split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            if MARKER.match(lines[i]) and not (i + 1 < len(lines) and FENCE.match(lines[i + 1])):
                raise ValueError(f"README.md:{i + 1}: a readme-test marker must be the line "
                                 "right before a block")
            i += 1
            continue
        marker = MARKER.match(lines[i - 1]) if i > 0 else None
        end = i + 1
        while end < len(lines) and lines[end].rstrip() != "```":
            end += 1
        if end == len(lines):
            raise ValueError(f"README.md:{i + 1}: the block is not closed")
        block = Block(fence.group(1), i + 2, lines[i + 1:end], marker and marker.group(1))
        if block.language in SHELL_LANGUAGES:
            block.commands = commands(block)
        blocks.append(block)
        i = end + 1
    return blocks


def commands(block: Block) -> list[Command]:
    """A block's commands; for a console block with `$ ` prompts, with the output shown."""
    prompts = any(line.startswith("$ ") for line in block.lines)
    found: list[Command] = []
    i = 0
    while i < len(block.lines):
        line = block.lines[i]
        start = i
        if prompts and not line.startswith("$ "):
            if not found:
                raise ValueError(f"README.md:{block.line + i}: output before the first `$ `")
            found[-1].expected.append(line)
            found[-1].span = (found[-1].span[0], block.line - 1 + i + 1)
            i += 1
            continue
        text = line[2:] if prompts else line
        while text.endswith("\\") and i + 1 < len(block.lines):
            i += 1
            text += "\n" + block.lines[i].removeprefix("> ")
        i += 1
        if not prompts and (not text.strip() or text.lstrip().startswith("#")):
            continue
        command = Command(text, block.line + start)
        if prompts:
            command.expected = []
            command.span = (block.line - 1 + i, block.line - 1 + i)
        found.append(command)
    return found


def key(command: str) -> str:
    """A command without its trailing comment, as NOT_RUN names it."""
    return command.split(" #", 1)[0].strip()


def trimmed(lines: list[str]) -> list[str]:
    out = [line.rstrip() for line in lines]
    while out and not out[-1]:
        out.pop()
    return out


class ReadmeTest(unittest.TestCase):
    def setUp(self):
        reason = missing("bash", "cargo")
        if reason:
            print(f"\ntest_readme: skipped: {reason}", file=sys.stderr)
            self.skipTest(reason)
        self.start = time.monotonic()
        self.head = git("rev-parse", "HEAD", cwd=ROOT)
        self.clean = not git("status", "--porcelain", cwd=ROOT)
        target = target_dir()
        self.scratch = os.path.realpath(tempfile.mkdtemp(prefix="nbhoist-readme-"))
        self.addCleanup(shutil.rmtree, self.scratch, ignore_errors=True)
        if self.clean:
            self.venv = os.path.join(self.scratch, "venv")
            cargo_target = target
        else:
            print(f"\ntest_readme: the working tree differs from HEAD; testing README.md at "
                  f"HEAD ({self.head[:12]})", file=sys.stderr)
            self.venv = os.path.join(commit_cache("readme-test", self.head), "venv")
            cargo_target = os.path.join(target, "pre-commit-build")
        self.installed_stamp = os.path.join(self.venv, "nbhoist-installed")
        if not os.path.exists(self.installed_stamp):
            shutil.rmtree(self.venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", self.venv], check=True)
        bin_dir = os.path.join(self.venv, "bin")
        self.env = environment()
        self.env.update(PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""),
                        VIRTUAL_ENV=self.venv, CARGO_TARGET_DIR=cargo_target,
                        PIP_DISABLE_PIP_VERSION_CHECK="1", NO_COLOR="1")
        self.cwd = self.scratch
        self.clone: str | None = None
        self.state = os.path.join(self.scratch, "cwd")

    def run_command(self, command: str) -> tuple[int, list[str]]:
        """Runs one command in bash, in the current folder; its exit code and output lines."""
        script = (command.replace(PLACEHOLDER, shlex.quote(ROOT)) +
                  f"\n__status=$?\npwd >{shlex.quote(self.state)}\nexit $__status\n")
        proc = subprocess.run(["bash", "-c", script], cwd=self.cwd, env=self.env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=1800, check=False)
        with open(self.state, encoding="utf-8") as f:
            self.cwd = f.read().strip()
        return proc.returncode, proc.stdout.decode("utf-8", "replace").split("\n")

    def cloned(self, command: str) -> None:
        """After the README's `git clone`: the clone at HEAD, its files' times as ours."""
        self.clone = os.path.join(self.cwd, shlex.split(command.split(" #", 1)[0])[-1])
        self.assertTrue(os.path.isdir(os.path.join(self.clone, ".git")),
                        f"`{command}` must name the folder to clone into last")
        if git("rev-parse", "HEAD", cwd=self.clone) != self.head:
            git("checkout", "-q", "--detach", self.head, cwd=self.clone)
        if self.clean:
            for path in git("ls-files", "-z", cwd=self.clone).split("\0"):
                source = os.path.join(ROOT, path)
                if path and not os.path.islink(source):
                    st = os.stat(source)
                    os.utime(os.path.join(self.clone, path), ns=(st.st_atime_ns, st.st_mtime_ns))

    def test_readme(self):
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            worktree_readme = f.read()
        readme = subprocess.run(["git", "show", "HEAD:README.md"], cwd=ROOT, check=True,
                                capture_output=True).stdout.decode("utf-8")
        blocks = parse(readme)

        not_run = {}
        for block in blocks:
            if block.marker is None:
                continue
            if block.marker.startswith("not run:"):
                self.assertIn(block.language, SHELL_LANGUAGES, f"README.md:{block.line}")
                not_run[key(block.commands[0].text)] = block.marker
            elif not block.marker.startswith("a cell of "):
                self.fail(f"README.md:{block.line - 2}: unknown readme-test marker "
                          f"`{block.marker}`")
        self.assertEqual(sorted(not_run), sorted(NOT_RUN),
                         "the README blocks marked `readme-test: not run` are not the known few; "
                         "run the new command here, or add it to NOT_RUN with the reason")

        ran = 0
        for block in blocks:
            if block.language not in SHELL_LANGUAGES or block.marker:
                continue
            for command in block.commands:
                if (command.text == "pip install ." and not self.clean
                        and os.path.exists(self.installed_stamp)):
                    print(f"\ntest_readme: `pip install .` skipped: nbhoist from HEAD is "
                          f"installed in {self.venv}", file=sys.stderr)
                    continue
                status, output = self.run_command(command.text)
                ran += 1
                if command.expected is None:
                    self.assertEqual(status, 0, f"README.md:{command.line}: `{command.text}` "
                                     f"exited with {status}:\n" + "\n".join(output))
                else:
                    command.actual = trimmed(output)
                if command.text.startswith("git clone "):
                    self.cloned(command.text)
                elif command.text == "pip install .":
                    installed = shutil.which("nbhoist", path=self.env["PATH"])
                    self.assertEqual(installed, os.path.join(self.venv, "bin", "nbhoist"),
                                     "`pip install .` did not install nbhoist into the venv")
                    with open(self.installed_stamp, "w") as f:
                        f.write(self.head + "\n")
        self.assertIsNotNone(self.clone, "README.md runs no `git clone`")

        wrong = [(block, command) for block in blocks for command in block.commands
                 if command.actual is not None and command.actual != trimmed(command.expected)]
        if wrong:
            self.fail(self.report(readme, worktree_readme, wrong))

        self.check_cells(blocks)
        self.check_pre_commit(blocks)
        print(f"\ntest_readme: ran {ran} commands of README.md from a fresh clone in "
              f"{time.monotonic() - self.start:.0f} s", file=sys.stderr)

    def report(self, readme: str, worktree_readme: str, wrong) -> str:
        """The failure message: each block that differs, as it should read."""
        text = ["The commands of README.md print something else now:"]
        for _, command in wrong:
            text.append(f"\nREADME.md:{command.line}: $ {command.text}")
            text.extend(line.rstrip("\n") for line in difflib.unified_diff(
                trimmed(command.expected), command.actual, "README.md", "printed", n=1)
                if not line.startswith(("---", "+++")))
        text.append("\nAs they should read:")
        shown = []
        for block, _ in wrong:
            if not any(block is b for b in shown):
                shown.append(block)
        for block in shown:
            text.append(f"\nREADME.md:{block.line - 1}:\n```{block.language}")
            for command in block.commands:
                text.append(f"$ {command.text}")
                text.extend(command.actual if command.actual is not None else command.expected)
            text.append("```")
        if os.environ.get(UPDATE):
            if worktree_readme != readme:
                text.append(f"\n{UPDATE}: README.md not written: it differs from HEAD's")
            else:
                lines = readme.split("\n")
                for _, command in sorted(wrong, key=lambda bc: -bc[1].span[0]):
                    lines[command.span[0]:command.span[1]] = command.actual
                with open(os.path.join(ROOT, "README.md"), "w", encoding="utf-8") as f:
                    f.write("\n".join(lines))
                text.append(f"\n{UPDATE}: wrote these outputs into README.md; review and commit it")
        else:
            text.append(f"\n({UPDATE}=1 writes them into README.md)")
        return "\n".join(text)

    def check_cells(self, blocks: list[Block]) -> None:
        for block in blocks:
            if not (block.marker or "").startswith("a cell of "):
                continue
            path = block.marker.removeprefix("a cell of ")
            with open(os.path.join(self.clone, path), encoding="utf-8") as f:
                notebook = json.load(f)
            sources = ["".join(cell["source"]) if isinstance(cell["source"], list)
                       else cell["source"] for cell in notebook["cells"]
                       if cell["cell_type"] == "code"]
            shown = "\n".join(block.lines)
            self.assertIn(shown, sources, f"README.md:{block.line}: this block is not a cell "
                          f"of {path} after the README's commands; its code cells are:\n\n" +
                          "\n\n".join(sources))

    def check_pre_commit(self, blocks: list[Block]) -> None:
        with open(os.path.join(self.clone, "Cargo.toml"), encoding="utf-8") as f:
            version = re.search(r'^version = "([^"]+)"', f.read(), re.MULTILINE).group(1)
        with open(os.path.join(self.clone, ".pre-commit-hooks.yaml"), encoding="utf-8") as f:
            hooks = set(re.findall(r"^- id: (\S+)", f.read(), re.MULTILINE))
        snippets = [b for b in blocks if b.language == "yaml" and
                    any(line.strip().startswith("rev:") for line in b.lines)]
        self.assertEqual(len(snippets), 1, "README.md has one pre-commit snippet")
        text = "\n".join(snippets[0].lines)
        where = f"README.md:{snippets[0].line}"
        self.assertRegex(text, r"repo: " + re.escape(PLACEHOLDER) + r"\s", where)
        self.assertRegex(text, r"rev: v" + re.escape(version) + r"\s", where)
        named = re.findall(r"- id: (\S+)", text)
        self.assertTrue(named, where)
        self.assertLessEqual(set(named), hooks, f"{where}: hooks not in .pre-commit-hooks.yaml")


if __name__ == "__main__":
    unittest.main()
