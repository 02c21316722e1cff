"""Import modules with every module that cannot be found replaced by a stub.

Usage: python import_stubbed.py FOLDER MODULE...

Imports each dotted MODULE from FOLDER (first on ``sys.path``, and the working directory), in
this one process and in the order given. A module the interpreter cannot find (numpy,
torch, a notebook's local helper that is not there) is replaced by a stub, so that what is
checked is the module nbhoist wrote, not what happens to be installed: its statements run,
its imports of the standard library and of its own package are real.

A stub answers every attribute with another stub; a stub is a class (so that
``class Net(nn.Module)`` works), calling it returns a stub (or, called with one function, that
function: ``@jit`` and ``@tf.function`` keep what they decorate), and operators, indexing and
iteration work on it. ``from stub import *`` binds every name the checked package reads and
binds nowhere.

Prints one JSON object: ``{"MODULE": null | "ErrorType: message", ...}``.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import importlib.abc
import importlib.machinery
import json
import os
import sys
import types


class StubMeta(type):
    """The type of stubs: every stub is a class whose attributes are stubs."""

    def __getattr__(cls, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return stub(f"{cls.__name__}.{name}")

    def __call__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and isinstance(args[0], types.FunctionType):
            return args[0]
        return stub(f"{cls.__name__}()")

    def __getitem__(cls, key):
        return stub(f"{cls.__name__}[]")

    def __iter__(cls):
        return iter(())

    def __len__(cls):
        return 0

    def __bool__(cls):
        return True

    def __contains__(cls, item):
        return False

    def __enter__(cls):
        return cls

    def __exit__(cls, *exc):
        return False


def _operator(name: str):
    return lambda cls, *args: stub(f"{cls.__name__}{name}")


for _op in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "pow", "and", "or",
            "xor", "lshift", "rshift"):
    setattr(StubMeta, f"__{_op}__", _operator(_op))
    setattr(StubMeta, f"__r{_op}__", _operator(_op))
for _op in ("neg", "pos", "invert"):
    setattr(StubMeta, f"__{_op}__", _operator(_op))
# Comparisons answer False, so that `while x < stub:` ends.
for _op in ("lt", "le", "gt", "ge"):
    setattr(StubMeta, f"__{_op}__", lambda cls, other: False)


def stub(name: str) -> StubMeta:
    return StubMeta(name.rsplit(".", 1)[-1] or "stub", (), {"__module__": "stubbed"})


# What `from stubbed import *` binds: every name the checked modules read and bind nowhere
# (set by main), since what the real module exports is unknown.
STAR_NAMES: list[str] = []


class StubModule(types.ModuleType):
    def __getattr__(self, name: str):
        if name == "__all__":
            return STAR_NAMES
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return stub(f"{self.__name__}.{name}")


def free_names(folder: str) -> list[str]:
    """Names that some .py file under ``folder`` reads but does not bind."""
    free: set[str] = set()
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            if not name.endswith(".py"):
                continue
            try:
                with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                    tree = ast.parse(f.read())
            except (OSError, SyntaxError, ValueError):
                continue
            read, bound = set(), set()
            for node in ast.walk(tree):
                if isinstance(node, ast.Name):
                    (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    bound.add(node.name)
                elif isinstance(node, ast.alias):
                    bound.add((node.asname or node.name).split(".")[0])
                elif isinstance(node, ast.arg):
                    bound.add(node.arg)
            free |= read - bound
    return sorted(free - set(dir(builtins)))


class StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on ``sys.meta_path``: finds every module nothing else finds."""

    def find_spec(self, fullname, path, target=None):
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        module = StubModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    folder, modules = os.path.abspath(argv[0]), argv[1:]
    # What the modules print goes to stderr; the answer alone to stdout.
    answer = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    os.chdir(folder)
    sys.path.insert(0, folder)
    sys.meta_path.append(StubFinder())
    for package in sorted({module.split(".")[0] for module in modules}):
        STAR_NAMES.extend(free_names(os.path.join(folder, package)))
    results: dict[str, str | None] = {}
    for module in modules:
        try:
            importlib.import_module(module)
            results[module] = None
        except BaseException as e:  # noqa: BLE001 - SystemExit too
            results[module] = f"{type(e).__name__}: {str(e)[:300]}"
    answer.write(json.dumps(results) + "\n")
    answer.flush()
    return 0


if __name__ == "__main__":
    # A module may start threads or register exit handlers: leave at once.
    code = main(sys.argv[1:])
    os._exit(code)
