"""Tests nbhoist's .pre-commit-hooks.yaml with pre-commit itself (run by scripts/test).

A new git repository with a notebook that has code to hoist uses this checkout as a
pre-commit hook repository, at its committed HEAD. pre-commit installs nbhoist from it as any
user's would: `pip install` of the repository, which builds the wheel with maturin and cargo
in release mode. Then:

- the `nbhoist-check` hook fails and changes nothing;
- the `nbhoist` hook hoists the code, and pre-commit fails because files were modified;
- once the changes are added, both hooks pass.

Only committed changes are tested: pre-commit installs hooks from a commit (a note is printed
when the working tree differs from HEAD).

Keeping it fast: pre-commit's cache (PRE_COMMIT_HOME) is target/pre-commit/<HEAD commit>, so
a second run at the same commit builds nothing; the caches of other commits are removed.
When the working tree is clean, cargo builds in the checkout's own target directory (or
CARGO_TARGET_DIR), where the build from HEAD is the build of the working tree, so that
`cargo build --release` and scripts/wheel-check reuse it and CI compiles nbhoist once in
release mode. Otherwise it builds in target/pre-commit-build, so that a binary built from
HEAD never passes for one of the working tree.

Skipped, with the reason printed, without git, cargo or pre-commit, or outside a git
checkout. Run alone with:
    target/test-venv/bin/python -m unittest discover -s tests/python -p test_precommit.py
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from checkout import ROOT, commit_cache, environment, git, missing, target_dir

NOTEBOOK = "analysis.ipynb"
PACKAGE = "mylib"


def missing_tool() -> str | None:
    """Why the test cannot run here, or None."""
    if importlib.util.find_spec("pre_commit") is None:
        return (f"pre-commit is not installed for {sys.executable} "
                "(scripts/test installs it from tests/python/requirements.txt)")
    return missing("cargo")


class PreCommitHooksTest(unittest.TestCase):
    def setUp(self):
        reason = missing_tool()
        if reason:
            print(f"\ntest_precommit: skipped: {reason}", file=sys.stderr)
            self.skipTest(reason)
        self.head = git("rev-parse", "HEAD", cwd=ROOT)
        target = target_dir()
        if git("status", "--porcelain", cwd=ROOT):
            print(f"\ntest_precommit: the working tree differs from HEAD; testing the hooks "
                  f"at HEAD ({self.head[:12]})", file=sys.stderr)
            cargo_target = os.path.join(target, "pre-commit-build")
        else:
            cargo_target = target
        self.env = environment()
        self.env.update(PRE_COMMIT_HOME=commit_cache("pre-commit", self.head),
                        CARGO_TARGET_DIR=cargo_target, PIP_DISABLE_PIP_VERSION_CHECK="1",
                        NO_COLOR="1")
        self.repo = tempfile.mkdtemp(prefix="nbhoist-pre-commit-")
        self.addCleanup(shutil.rmtree, self.repo, ignore_errors=True)

    def pre_commit(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pre_commit", "run", *args, "--all-files",
                               "--color", "never"], cwd=self.repo, env=self.env,
                              capture_output=True, text=True, timeout=1800, check=False)

    def explain(self, proc: subprocess.CompletedProcess) -> str:
        text = f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        log = os.path.join(self.env["PRE_COMMIT_HOME"], "pre-commit.log")
        if os.path.exists(log):
            with open(log, encoding="utf-8", errors="replace") as f:
                text += f"\n--- {log} (last 4000 characters)\n{f.read()[-4000:]}"
        return text

    def read(self, path: str) -> bytes:
        with open(os.path.join(self.repo, path), "rb") as f:
            return f.read()

    def test_hooks(self):
        start = time.monotonic()
        shutil.copy(os.path.join(ROOT, "examples", NOTEBOOK), self.repo)
        with open(os.path.join(self.repo, "pyproject.toml"), "w") as f:
            f.write(f'[tool.nbhoist]\npackage = "{PACKAGE}"\n')
        # The hooks run as `entry` has them: the package's name comes from pyproject.toml.
        hooks = "".join(f"      - id: {hook}\n" for hook in ("nbhoist-check", "nbhoist"))
        with open(os.path.join(self.repo, ".pre-commit-config.yaml"), "w") as f:
            f.write(f"repos:\n  - repo: {json.dumps(ROOT)}\n    rev: {self.head}\n"
                    f"    hooks:\n{hooks}")
        git("init", "-q", cwd=self.repo)
        git("add", "-A", cwd=self.repo)
        before = self.read(NOTEBOOK)

        # The check fails, and writes nothing. (The first run installs nbhoist.)
        proc = self.pre_commit("nbhoist-check")
        self.assertEqual(proc.returncode, 1, self.explain(proc))
        self.assertRegex(proc.stdout, r"nbhoist check\.+Failed", self.explain(proc))
        self.assertIn("load_rows", proc.stdout, self.explain(proc))
        self.assertEqual(self.read(NOTEBOOK), before)
        self.assertFalse(os.path.exists(os.path.join(self.repo, PACKAGE)))
        installed = time.monotonic()

        # The fixer hoists, and pre-commit fails the commit because it changed files.
        proc = self.pre_commit("nbhoist")
        self.assertEqual(proc.returncode, 1, self.explain(proc))
        self.assertIn("files were modified by this hook", proc.stdout, self.explain(proc))
        after = self.read(NOTEBOOK)
        self.assertNotEqual(after, before)
        self.assertIn(f"from {PACKAGE}.analysis import", after.decode("utf-8"))
        self.assertIn(b"def load_rows(", self.read(os.path.join(PACKAGE, "analysis.py")))

        # With the changes added, both hooks pass and change nothing.
        git("add", "-A", cwd=self.repo)
        proc = self.pre_commit()
        self.assertEqual(proc.returncode, 0, self.explain(proc))
        self.assertRegex(proc.stdout, r"nbhoist check\.+Passed", self.explain(proc))
        self.assertRegex(proc.stdout, r"\nnbhoist\.+Passed", self.explain(proc))
        self.assertEqual(self.read(NOTEBOOK), after)
        print(f"\ntest_precommit: installed nbhoist's hooks in {installed - start:.0f} s, "
              f"ran them in {time.monotonic() - installed:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
