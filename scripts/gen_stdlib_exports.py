#!/usr/bin/env python3
"""Generates src/python/stdlib_exports/data.rs: what `from m import *` binds, for every
standard-library module m, in CPython 3.8 to 3.14 on Linux.

Usage: scripts/gen-stdlib-exports [--report FILE] [--cache DIR]

Run it with CPython 3.11 (the Linux runtime it asks is the one running it), `node` (18 or
later) and `npm` on the PATH, and PyPI and the npm registry reachable. It downloads the
pinned packages below into target/stdlib-exports-cache (reused by later runs), checks their
hashes, and rewrites the data file. The output depends only on the pinned packages and the
3.11 interpreter, so running it twice gives the same bytes. It is not part of the tests;
`cargo test` only checks that the committed data is well formed and sorted.

What "exports" means: the module's `__all__` when it has one, else every name in the module's
namespace that does not start with `_` (which includes modules and names that the module
itself imported, such as `sys`).

Where the data comes from, by trust:

1. CPython 3.11 on Linux, the interpreter running this script: each module is imported in a
   fresh `python -I -S` process (after importing os and adding site's builtins such as
   `exit`, as a normal start does; -S keeps the .pth files of site-packages out, since
   setuptools' one replaces distutils) and its `__all__` or public names are read. This is
   the truth for 3.11 (for the patch release running the script).
2. Real CPython 3.10, 3.12, 3.13 and 3.14 from Pyodide (CPython compiled to WebAssembly,
   from the npm registry), run under node. Pyodide's platform is "emscripten", not Linux, and
   it lacks some modules (tkinter, dbm, ...). So its answers are calibrated: Pyodide 0.25.1
   (CPython 3.11.3) is asked too, and only modules whose exports there equal the Linux
   3.11 runtime's exactly are taken from Pyodide at the other versions. Platform-dependent
   modules (os, posix, signal, socket, select, ...) fail that test and are derived as
   below. Modules added after 3.11 cannot be calibrated; they are pure Python and are read
   from Pyodide. In the one Pyodide interpreter, each module and its submodules are removed
   from sys.modules before it is imported, so that a package shows the submodules its own
   code imports.
3. typeshed's stubs, the standard library as the type checkers see it, evaluated per
   version with `ast` (`if sys.version_info >= (3, N)` / `sys.platform` branches for Linux,
   `__all__ = [...]` and `__all__ += [...]`; without `__all__`, the stub's public top-level
   names). typeshed drops a version some months after its end of life, so each version is
   read from the newest snapshot that still has it: mypy 1.16.1's copy (June 2025) for 3.8,
   typeshed_client 2.11.0 (May 2026) for 3.9, typeshed_client 2.15.0 (November 2026) for
   3.10 to 3.14. typeshed's VERSIONS file (plus the stub files present) says in which
   versions a module exists.

For a module and version without a trusted runtime answer (every module in 3.8 and 3.9; the
platform-dependent or Pyodide-less ones in 3.10 and 3.12 to 3.14), the exports are those of
the nearest version with a runtime answer (the later one on a tie), changed by the
difference the stubs see between the two versions (the snapshot that covers the older of
the two is used for that difference): names the stubs add or drop between them are added
or dropped, everything else (imports, undocumented functions) carries over. A module that no
runtime could import (e.g. dbm.gnu here, or modules removed before 3.10) is taken from the
stubs alone, which leave out the modules and names that the module merely imports.

Limits: 3.8 and 3.9 are derived, not observed; when a module gained `__all__` after a
derived version, the derived version lacks the names the module imported; Pyodide's patch releases (3.10.2, 3.12.7,
3.13.2, 3.14.2) may differ slightly from the last ones; a package without `__all__` is
read right after a fresh import, so submodules that other code imported later (which then
become attributes of the package and are bound by a star import) are not counted.
Windows- and macOS-only modules are left out; the data is for Linux. Private modules
(a dotted component starting with `_`), `__future__`, `__main__`, typing_extensions and
modules without stubs (test, idlelib, turtledemo) are left out. docs/stdlib-exports.md has
the differences found between the sources.
"""

from __future__ import annotations

import argparse
import ast
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "src/python/stdlib_exports/data.rs"

MINORS = range(8, 15)  # 3.8 ..= 3.14; bit (minor - 8) of a mask
RUNTIME_MINOR = 11

# typeshed snapshots: (package, version, wheel file, sha256, folder of the stdlib stubs inside
# the wheel, the lowest minor the snapshot still covers; it covers every later one too).
STUBS = [
    (
        "mypy",
        "1.16.1",
        "mypy-1.16.1-py3-none-any.whl",
        "5fc2ac4027d0ef28d6ba69a0343737a23c4d1b83672bf38d1fe237bdc0643b37",
        "mypy/typeshed/stdlib",
        8,
    ),
    (
        "typeshed_client",
        "2.11.0",
        "typeshed_client-2.11.0-py3-none-any.whl",
        "5745e0990b80b29a286b22d68f81779c5c7adf1cac8969eeafba44b73b486c36",
        "typeshed_client/typeshed",
        9,
    ),
    (
        "typeshed_client",
        "2.15.0",
        "typeshed_client-2.15.0-py3-none-any.whl",
        "04982c298c9e133977f0a9ec3e66d4ec424a09ec7d4fad63f814eb69dfbbc7fc",
        "typeshed_client/typeshed",
        10,
    ),
]

# npm package pyodide: version -> (CPython minor, sha512 integrity of the tarball)
PYODIDE = {
    "0.22.1": (10, "sha512-6+PkFLTC+kcBKtFQxYBxR44J5IBxLm8UGkobLgZv1SxzV9qOU2rb0YYf0qDtlnfDiN/IQd2uckf+D8Zwe88Mqg=="),
    "0.25.1": (11, "sha512-y0nJ/fLA3bxD2iZRzvVTbP2O+wp4Ewm2wThfV4HF0BytQ6hsoqTJFLNY4usLOcCVBrK8TTWqFqrmsVPzHe4rsw=="),
    "0.27.7": (12, "sha512-RUSVJlhQdfWfgO9hVHCiXoG+nVZQRS5D9FzgpLJ/VcgGBLSAKoPL8kTiOikxbHQm1kRISeWUBdulEgO26qpSRA=="),
    "0.29.5": (13, "sha512-TkYrUv9m8QmfImADKRmpwZulL48E0uUaBSO+dvRQKyAJc0qh9gu7jn8btyHPh3NZm1r2IH2YrJhIr7Q2B9urAw=="),
    "314.0.8": (14, "sha512-74Wq1kXOC+CCEzAfxuRAO701nAcCMLjf8NrwvWpu8S41dVMXwXmLQ05dYB+F4e46AdnGo0oq7YHSVUpHsoarLQ=="),
}

# Modules that exist only on Windows or macOS (or import only there).
NOT_ON_LINUX = {
    "msvcrt",
    "winreg",
    "winsound",
    "msilib",
    "nt",
    "asyncio.windows_events",
    "asyncio.windows_utils",
    "multiprocessing.popen_spawn_win32",
    "encodings.mbcs",
    "encodings.oem",
    "encodings.cp65001",
    "distutils.msvccompiler",
    "distutils.command.bdist_msi",
    "ctypes.wintypes",
}
# Modules whose import does something besides defining names (opens a web browser).
NO_IMPORT = {"antigravity"}
# In typeshed's stdlib folder but not part of the standard library.
NOT_STDLIB = {"typing_extensions", "mypy_extensions"}


def log(*args: object) -> None:
    print(*args, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Downloads


def fetch_wheel(cache: Path, name: str, version: str, filename: str, sha256: str) -> Path:
    path = cache / filename
    if not path.exists():
        with tempfile.TemporaryDirectory() as tmp:
            req = Path(tmp) / "requirements.txt"
            req.write_text(f"{name}=={version} --hash=sha256:{sha256}\n")
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                 "--only-binary=:all:", "--platform", "any", "--python-version", "3.11",
                 "--implementation", "py", "--require-hashes", "-r", str(req), "-d", tmp],
                check=True,
            )
            shutil.move(str(Path(tmp) / filename), path)
    if hashlib.sha256(path.read_bytes()).hexdigest() != sha256:
        sys.exit(f"{path}: sha256 mismatch")
    return path


def fetch_pyodide(cache: Path, version: str, integrity: str) -> Path:
    """Returns the folder of the unpacked npm package."""
    tgz = cache / f"pyodide-{version}.tgz"
    if not tgz.exists():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                ["npm", "pack", f"pyodide@{version}", "--silent", "--pack-destination", tmp],
                check=True, stdout=subprocess.DEVNULL,
            )
            shutil.move(str(Path(tmp) / f"pyodide-{version}.tgz"), tgz)
    algo, digest = integrity.split("-", 1)
    if base64.b64encode(hashlib.new(algo, tgz.read_bytes()).digest()).decode() != digest:
        sys.exit(f"{tgz}: integrity mismatch")
    folder = cache / f"pyodide-{version}"
    if not (folder / "package" / "pyodide.js").exists():
        shutil.rmtree(folder, ignore_errors=True)
        with tarfile.open(tgz) as tar:
            tar.extractall(folder, filter="data")
    return folder / "package"


# --------------------------------------------------------------------------------------
# typeshed stubs


class StubSet:
    """One typeshed snapshot: its modules, their existence ranges, and their exports."""

    def __init__(self, wheel: Path, prefix: str, min_minor: int) -> None:
        self.min_minor = min_minor
        self.sources: dict[str, str] = {}
        self.packages: set[str] = set()
        with zipfile.ZipFile(wheel) as zf:
            for info in zf.infolist():
                if not info.filename.startswith(prefix + "/"):
                    continue
                rel = info.filename[len(prefix) + 1 :]
                if rel == "VERSIONS":
                    versions_text = zf.read(info).decode()
                if not rel.endswith(".pyi"):
                    continue
                parts = rel[: -len(".pyi")].split("/")
                if parts[-1] == "__init__":
                    parts.pop()
                    self.packages.add(".".join(parts))
                self.sources[".".join(parts)] = zf.read(info).decode()
        self.ranges: dict[str, tuple[int, int]] = {}
        for line in versions_text.splitlines():
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            module, rng = (s.strip() for s in line.split(":"))
            low, _, high = rng.partition("-")
            self.ranges[module] = (int(low.split(".")[1]), int(high.split(".")[1]) if high else 99)
        self.trees: dict[str, ast.Module] = {}
        self.cache: dict[tuple[str, int], list[str]] = {}

    def covers(self, minor: int) -> bool:
        return minor >= self.min_minor

    def exists(self, module: str, minor: int) -> bool:
        if module not in self.sources:
            return False
        parts = module.split(".")
        for i in range(len(parts), 0, -1):
            rng = self.ranges.get(".".join(parts[:i]))
            if rng is not None:
                return rng[0] <= minor <= rng[1]
        return False

    def tree(self, module: str) -> ast.Module:
        if module not in self.trees:
            self.trees[module] = ast.parse(self.sources[module], filename=module + ".pyi")
        return self.trees[module]

    def exports(self, module: str, minor: int) -> list[str]:
        """What `from module import *` binds according to the stub, in order, no repeats."""
        key = (module, minor)
        if key not in self.cache:
            self.cache[key] = []  # guards against import cycles
            self.cache[key] = StubEval(self, module, minor).run()
        return self.cache[key]

    def resolve(self, module: str, level: int, name: str | None) -> str:
        if level == 0:
            return name or ""
        base = module.split(".")
        if module not in self.packages:
            base.pop()
        for _ in range(level - 1):
            base.pop()
        return ".".join(base + ([name] if name else []))


class StubEval:
    def __init__(self, stubs: StubSet, module: str, minor: int) -> None:
        self.stubs, self.module, self.minor = stubs, module, minor
        self.all: list[str] | None = None
        self.names: list[str] = []
        self.imported: dict[str, str] = {}

    def run(self) -> list[str]:
        self.body(self.stubs.tree(self.module).body)
        names = self.all if self.all is not None else [n for n in self.names if not n.startswith("_")]
        return list(dict.fromkeys(names))

    def cond(self, node: ast.expr) -> bool:
        match node:
            case ast.BoolOp(op=ast.And(), values=values):
                return all(self.cond(v) for v in values)
            case ast.BoolOp(op=ast.Or(), values=values):
                return any(self.cond(v) for v in values)
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                return not self.cond(operand)
            case ast.Compare(left=left, ops=[op], comparators=[right]):
                value = self.value(left)
                other = self.value(right)
                match op:
                    case ast.GtE():
                        return value >= other
                    case ast.Gt():
                        return value > other
                    case ast.LtE():
                        return value <= other
                    case ast.Lt():
                        return value < other
                    case ast.Eq():
                        return value == other
                    case ast.NotEq():
                        return value != other
                    case ast.In():
                        return value in other
                    case ast.NotIn():
                        return value not in other
            case ast.Call(func=ast.Attribute(value=obj, attr="startswith"), args=[arg]):
                return self.value(obj).startswith(self.value(arg))
        raise ValueError(f"{self.module}: unknown condition {ast.unparse(node)}")

    def value(self, node: ast.expr):
        src = ast.unparse(node)
        if src == "sys.version_info":
            return (3, self.minor, 99)
        if src == "sys.platform":
            return "linux"
        return ast.literal_eval(node)

    def bind(self, name: str) -> None:
        self.names.append(name)

    def strings(self, node: ast.expr) -> list[str]:
        match node:
            case ast.List(elts=elts) | ast.Tuple(elts=elts):
                return [ast.literal_eval(e) for e in elts]
            case ast.BinOp(op=ast.Add(), left=left, right=right):
                return self.strings(left) + self.strings(right)
            case ast.Attribute(value=ast.Name(id=mod), attr="__all__"):
                return list(self.stubs.exports(self.imported[mod], self.minor))
        raise ValueError(f"{self.module}: unknown __all__ value {ast.unparse(node)}")

    def body(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            match stmt:
                case ast.If(test=test, body=body, orelse=orelse):
                    self.body(body if self.cond(test) else orelse)
                case ast.Try(body=body):
                    self.body(body)
                case ast.Assign(targets=[ast.Name(id="__all__")], value=value):
                    self.all = self.strings(value)
                case ast.AnnAssign(target=ast.Name(id="__all__"), value=value) if value:
                    self.all = self.strings(value)
                case ast.AugAssign(target=ast.Name(id="__all__"), op=ast.Add(), value=value):
                    self.all = (self.all or []) + self.strings(value)
                case ast.Expr(value=ast.Call(func=ast.Attribute(value=ast.Name(id="__all__"), attr=method), args=args)):
                    if method == "extend":
                        self.all = (self.all or []) + self.strings(args[0])
                    elif method == "append":
                        self.all = (self.all or []) + [ast.literal_eval(args[0])]
                    else:
                        raise ValueError(f"{self.module}: __all__.{method}")
                case ast.Assign(targets=targets):
                    for target in targets:
                        for node in ast.walk(target):
                            if isinstance(node, ast.Name):
                                self.bind(node.id)
                case ast.AnnAssign(target=ast.Name(id=name)):
                    self.bind(name)
                case ast.FunctionDef(name=name) | ast.AsyncFunctionDef(name=name) | ast.ClassDef(name=name):
                    self.bind(name)
                case ast.Import(names=aliases):
                    for alias in aliases:
                        self.imported[alias.asname or alias.name.split(".")[0]] = alias.name
                        if alias.asname and alias.asname == alias.name:
                            self.bind(alias.asname)
                case ast.ImportFrom(module=source, names=aliases, level=level):
                    target = self.stubs.resolve(self.module, level, source)
                    for alias in aliases:
                        if alias.name == "*":
                            if target in self.stubs.sources:
                                for name in self.stubs.exports(target, self.minor):
                                    self.bind(name)
                        elif alias.asname == alias.name or (source is None and level == 1 and self.module in self.stubs.packages):
                            # `x as x` re-exports; so does `from . import x` in a package.
                            self.bind(alias.asname or alias.name)
                case _:
                    pass


# --------------------------------------------------------------------------------------
# Runtimes

# Prints one JSON object: module -> {"all": bool, "names": [...]} or {"error": "..."}.
# Reads the module names from the JSON list in the variable MODULES; FRESH says whether
# each module is in a fresh process already (else it and its submodules are purged from
# sys.modules and imported anew, so that a package shows the submodules its own code
# imports and no others).
PROBE = r"""
import importlib, io, json, sys

def probe(name, fresh):
    if fresh:
        # What `site` does at startup, without the .pth files of site-packages (setuptools'
        # replaces distutils): os is imported, and exit, help, copyright... are builtins.
        import os, site
        site.setquit(); site.setcopyright(); site.sethelper()
    else:
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            if key not in sys.builtin_module_names and key != "sys":
                del sys.modules[key]
    out, err = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = io.StringIO()
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = importlib.import_module(name)
        names = getattr(module, "__all__", None)
        if names is not None:
            return {"all": True, "names": list(dict.fromkeys(str(n) for n in names))}
        return {"all": False, "names": sorted(n for n in vars(module) if not n.startswith("_"))}
    except BaseException as e:
        return {"error": type(e).__name__ + ": " + str(e)}
    finally:
        sys.stdout, sys.stderr = out, err

result = {name: probe(name, FRESH) for name in MODULES}
print("PROBE-RESULT " + json.dumps(result, sort_keys=True))
"""

NODE_RUNNER = r"""
const { readFileSync } = require("node:fs");
const path = require("node:path");
const [pkg, script] = process.argv.slice(2);
const dir = path.resolve(pkg) + "/";
const { loadPyodide } = require(dir + "pyodide.js");
(async () => {
  const py = await loadPyodide({ indexURL: dir, stdout: (s) => process.stdout.write(s + "\n"), stderr: () => {} });
  py.runPython(readFileSync(script, "utf8"));
})();
"""


def probe_script(modules: list[str], fresh: bool) -> str:
    return f"MODULES = {json.dumps(modules)}\nFRESH = {fresh}\n" + PROBE


def parse_probe(stdout: str) -> dict:
    for line in stdout.splitlines():
        if line.startswith("PROBE-RESULT "):
            return json.loads(line[len("PROBE-RESULT ") :])
    raise RuntimeError("probe printed no result:\n" + stdout[-2000:])


def probe_linux(modules: list[str]) -> dict:
    result = {}
    for name in modules:
        if name in NO_IMPORT:
            continue
        proc = subprocess.run(
            [sys.executable, "-I", "-S", "-c", probe_script([name], True)],
            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
            env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8", "DISPLAY": ""},
        )
        result.update(parse_probe(proc.stdout))
    return result


def probe_pyodide(package: Path, modules: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        runner = Path(tmp) / "run.cjs"
        runner.write_text(NODE_RUNNER)
        script = Path(tmp) / "probe.py"
        script.write_text(probe_script([m for m in modules if m not in NO_IMPORT], False))
        proc = subprocess.run(
            ["node", str(runner), str(package), str(script)],
            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=1800,
        )
        return parse_probe(proc.stdout)


# --------------------------------------------------------------------------------------
# Putting it together


def public_module(name: str) -> bool:
    return (
        not any(part.startswith("_") for part in name.split("."))
        and name not in NOT_ON_LINUX
        and name not in NOT_STDLIB
        and not any(name.startswith(m + ".") for m in NOT_ON_LINUX)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", type=Path, help="write the differences found to this file")
    parser.add_argument("--cache", type=Path, default=ROOT / "target/stdlib-exports-cache")
    args = parser.parse_args()
    if sys.version_info[:2] != (3, RUNTIME_MINOR) or sys.platform != "linux":
        sys.exit(f"run this with CPython 3.{RUNTIME_MINOR} on Linux")
    args.cache.mkdir(parents=True, exist_ok=True)
    report: list[str] = []

    snapshots: list[StubSet] = []
    for name, version, filename, sha, prefix, min_minor in STUBS:
        wheel = fetch_wheel(args.cache, name, version, filename, sha)
        snapshots.append(StubSet(wheel, prefix, min_minor))

    def snapshot(minor: int) -> StubSet:
        """The newest snapshot that still covers `minor`."""
        return [s for s in snapshots if s.covers(minor)][-1]

    # The modules, and the minors in which each exists.
    exists: dict[str, int] = {}
    for s in snapshots:
        for module in s.sources:
            if not public_module(module):
                continue
            mask = 0
            for minor in MINORS:
                if snapshot(minor) is s and s.exists(module, minor):
                    mask |= 1 << (minor - 8)
            if mask:
                exists[module] = exists.get(module, 0) | mask
    modules = sorted(exists)
    log(f"{len(modules)} modules")

    def has(module: str, minor: int) -> bool:
        return bool(exists[module] >> (minor - 8) & 1)

    log("asking the Linux runtime (3.11)")
    linux = probe_linux(modules)
    runtimes: dict[int, dict] = {}
    for version, (minor, integrity) in PYODIDE.items():
        log(f"asking Pyodide {version} (3.{minor})")
        runtimes[minor] = probe_pyodide(fetch_pyodide(args.cache, version, integrity), modules)
    calibration = runtimes.pop(RUNTIME_MINOR)

    # Which (module, minor) pairs have a runtime answer we trust.
    trusted: dict[str, dict[int, list[str]]] = {m: {} for m in modules}
    neutral = set()
    for module in modules:
        lin = linux.get(module)
        if not has(module, RUNTIME_MINOR):
            # New since 3.11 (or gone before it): no calibration is possible. The modules
            # added since are pure Python and not platform-specific, so Pyodide is trusted.
            if any(has(module, minor) for minor in runtimes if minor > RUNTIME_MINOR):
                neutral.add(module)
        elif lin is None or "error" in lin:
            report.append(f"not importable on Linux 3.11: {module}: {lin and lin['error']}")
            continue
        else:
            trusted[module][RUNTIME_MINOR] = lin["names"]
            cal = calibration.get(module)
            if cal is not None and "error" not in cal and set(cal["names"]) == set(lin["names"]):
                neutral.add(module)
        if module in neutral:
            for minor, answers in runtimes.items():
                ans = answers.get(module)
                if ans is not None and "error" not in ans and has(module, minor):
                    trusted[module][minor] = ans["names"]
    report.append(f"platform-neutral modules (Pyodide 3.11 == Linux 3.11): {len(neutral)}")
    report.append("other modules importable on Linux 3.11: " + " ".join(
        m for m in modules if m not in neutral and RUNTIME_MINOR in trusted[m]))

    # Stub versus Linux runtime in 3.11.
    stub11 = snapshot(RUNTIME_MINOR)
    report.append("")
    report.append("3.11: typeshed stub versus Linux runtime (+ runtime only, - stub only)")
    for module in modules:
        if RUNTIME_MINOR not in trusted[module]:
            continue
        rt = set(trusted[module][RUNTIME_MINOR])
        st = set(stub11.exports(module, RUNTIME_MINOR))
        if rt != st:
            has_all = linux[module]["all"]
            report.append(
                f"{module} ({'__all__' if has_all else 'no __all__'}): "
                + " ".join(sorted(f"+{n}" for n in rt - st) + sorted(f"-{n}" for n in st - rt))
            )

    # The table.
    table: dict[str, dict[str, int]] = {}
    for module in modules:
        per_minor: dict[int, set[str]] = {}
        anchors = sorted(trusted[module])
        for minor in MINORS:
            if not has(module, minor):
                continue
            if minor in trusted[module]:
                per_minor[minor] = set(trusted[module][minor])
                continue
            if not anchors:
                per_minor[minor] = set(snapshot(minor).exports(module, minor))
                continue
            anchor = min(anchors, key=lambda a: (abs(a - minor), -a))
            stubs = snapshot(min(anchor, minor))
            at_anchor = set(stubs.exports(module, anchor))
            at_minor = set(stubs.exports(module, minor))
            per_minor[minor] = (set(trusted[module][anchor]) - (at_anchor - at_minor)) | (at_minor - at_anchor)
        names: dict[str, int] = {}
        for minor, found in per_minor.items():
            for name in found:
                names[name] = names.get(name, 0) | 1 << (minor - 8)
        table[module] = names

    # Pyodide versus the stub-derived answer, where both exist (for the report).
    report.append("")
    report.append("Pyodide runtime (trusted modules) versus typeshed, per version: +runtime only, -stub only")
    for minor in sorted(runtimes):
        count = 0
        for module in modules:
            if minor in trusted[module] and module in neutral:
                st = set(snapshot(minor).exports(module, minor))
                rt = set(trusted[module][minor])
                count += rt != st
        report.append(f"3.{minor}: {count} modules differ")

    report.append("")
    report.append("(module, version) pairs by source:")
    for minor in MINORS:
        pairs = [m for m in modules if has(m, minor)]
        observed = sum(minor in trusted[m] for m in pairs)
        derived = sum(minor not in trusted[m] and bool(trusted[m]) for m in pairs)
        report.append(f"3.{minor}: {len(pairs)} modules: {observed} from a runtime, "
                      f"{derived} runtime + stub difference, {len(pairs) - observed - derived} stubs only")
    write_rust(table, exists)
    if args.report:
        args.report.write_text("\n".join(report) + "\n")
    total = sum(len(v) for v in table.values())
    log(f"{len(table)} modules, {total} (module, name) entries, "
        f"{len({n for v in table.values() for n in v})} distinct names -> {OUTPUT.relative_to(ROOT)}")


def rust_array(values: list[int], per_line: int = 24) -> str:
    lines = []
    for i in range(0, len(values), per_line):
        lines.append("    " + ", ".join(str(v) for v in values[i : i + per_line]) + ",")
    return "\n".join(lines)


def write_rust(table: dict[str, dict[str, int]], exists: dict[str, int]) -> None:
    names = sorted({n for v in table.values() for n in v})
    for n in names:
        if not n.isascii() or not n.isidentifier():
            sys.exit(f"unexpected name {n!r}")
    if len(names) > 0xFFFF:
        sys.exit("too many names for u16 ids")
    index = {n: i for i, n in enumerate(names)}
    ends, offset = [], 0
    for n in names:
        offset += len(n)
        ends.append(offset)
    entry_names: list[int] = []
    entry_versions: list[int] = []
    module_rows = []
    for module in sorted(table):
        start = len(entry_names)
        for name in sorted(table[module], key=index.__getitem__):
            entry_names.append(index[name])
            entry_versions.append(table[module][name])
        module_rows.append(f'    ("{module}", 0b{exists[module]:07b}, {start}, {len(entry_names)}),')
    # The names, as one string literal cut into lines of about 90 characters.
    name_lines, line = [], ""
    for n in names:
        if len(line) + len(n) > 90:
            name_lines.append(line)
            line = ""
        line += n
    name_lines.append(line)
    names_literal = "\\\n".join(name_lines)

    stubs = ", ".join(f"{name} {version}" for name, version, *_ in STUBS)
    text = f"""\
// @generated by scripts/gen-stdlib-exports from typeshed's stubs
// ({stubs}), CPython 3.{RUNTIME_MINOR} on Linux
// and Pyodide {", ".join(PYODIDE)}.
// Do not edit; see docs/stdlib-exports.md to regenerate.

//! The data behind [`super::module_exports`]: {len(table)} modules, {len(entry_names)} exports, {len(names)} names.

/// Every exported name, sorted, one after another; name `i` ends at `NAME_ENDS[i]`.
#[rustfmt::skip]
pub(super) static NAMES: &str = "\\
{names_literal}";

/// Where each name of [`NAMES`] ends.
#[rustfmt::skip]
pub(super) static NAME_ENDS: [u32; {len(ends)}] = [
{rust_array(ends, 16)}
];

/// Each module, sorted by name: (name, minors it exists in as a mask of bit `minor - 8`,
/// first and past-the-end index of its exports in [`EXPORT_NAMES`]).
#[rustfmt::skip]
pub(super) static MODULES: [(&str, u8, u32, u32); {len(module_rows)}] = [
{chr(10).join(module_rows)}
];

/// The exports of all modules, module after module, each module's sorted: the name's index
/// in [`NAMES`].
#[rustfmt::skip]
pub(super) static EXPORT_NAMES: [u16; {len(entry_names)}] = [
{rust_array(entry_names, 20)}
];

/// The minors in which the export at the same index of [`EXPORT_NAMES`] is exported, as a
/// mask of bit `minor - 8`.
#[rustfmt::skip]
pub(super) static EXPORT_MINORS: [u8; {len(entry_versions)}] = [
{rust_array(entry_versions, 30)}
];
"""
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text)


if __name__ == "__main__":
    main()
