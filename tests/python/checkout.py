"""What the tests of this checkout's committed HEAD share (test_precommit.py, test_readme.py):
git, why such a test cannot run here, where it builds and caches, and its environment."""

from __future__ import annotations

import os
import shutil
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def git(*args: str, cwd: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def missing(*tools: str) -> str | None:
    """Why a test of HEAD cannot run here (git or one of `tools` is not on PATH, or this is
    not a git checkout with a commit), or None."""
    for tool in ("git", *tools):
        if shutil.which(tool) is None:
            return f"{tool} is not on PATH"
    try:
        git("rev-parse", "--verify", "HEAD", cwd=ROOT)
    except (subprocess.CalledProcessError, OSError):
        return f"{ROOT} is not a git checkout with a commit"
    return None


def target_dir() -> str:
    """cargo's target directory: CARGO_TARGET_DIR, or this checkout's target/."""
    return os.path.abspath(os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target"))


def commit_cache(name: str, head: str) -> str:
    """target/NAME/HEAD, the cache of one commit; the caches of other commits are removed."""
    cache = os.path.join(target_dir(), name)
    os.makedirs(cache, exist_ok=True)
    for entry in os.listdir(cache):
        if entry != head:
            shutil.rmtree(os.path.join(cache, entry), ignore_errors=True)
    return os.path.join(cache, head)


def environment() -> dict[str, str]:
    """This process's environment, without what would steer the git or pre-commit of a test's
    temporary repository (as a git hook running the tests, say a pre-push hook, sets)."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith(("GIT_", "PRE_COMMIT"))}
