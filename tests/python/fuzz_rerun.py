"""Re-run mode of the behaviour fuzzer (``scripts/fuzz-behaviour --rerun``).

The first extraction of a notebook is checked by ``fuzz_behaviour.py``. A notebook then keeps
changing: people add functions, paste a hoisted function back to improve it, edit the module by
hand, or restore an old copy (docs/lifecycle.md). This module checks the runs that follow.

For notebook ``n`` of seed ``S`` (notebook A): A is extracted (phase 1, checked as without
``--rerun``); a change B, drawn from a seeded grammar of what people do to an extracted folder,
is made to the notebook and the package; then (phase 2) the changed notebook runs in IPython,
``nbhoist extract`` runs on the changed folder, and the notebook it leaves runs again. Phase 2
fails when:

- what the cells print, display or raise differs (``rerun-behaviour``);
- extract exits with anything but 0, or exits 1 without a conflict or a name gone from the
  module (``rerun-extract-failed``);
- a module it leaves does not compile (``rerun-module-compile``) or import
  (``rerun-module-import``);
- a third run changes a file or exits otherwise (``rerun-not-idempotent``);
- the statement of a name reported as a conflict changed, or a name reported gone was written
  again (``rerun-conflict-wrote``; with ``--strict-conflicts``, any file written by a run that
  exits 1);
- a statement of the module that the run did not update (the report's "takes the new version")
  is gone or changed, or ``--force`` kept no backup of the module as it was
  (``rerun-hand-edit-lost``);
- ``extract --check`` disagrees with the real run: it exits 0 when the run changes a file or
  exits 1, or 1 when the run changes nothing and exits 0 (``rerun-check-disagrees``).

B is a list of operations (JSON), each drawn from what the folder holds after phase 1: new
cells inserted at a place (an anchor: the top, the end, above or below nbhoist's import cell
or a cell of A by its id, or into such a cell), the original notebook restored, and edits of
the module (a statement replaced or deleted, code appended, ``from __future__ import
annotations``); with or without ``--force``. B is deterministic for a seed and an nbhoist
binary (it is drawn from what that binary extracted).

A failure is shrunk: B's operations, then the cells they insert, then A (as the fuzzer
shrinks notebooks; B is applied again to each smaller A's extraction, its anchors following
the cell ids), then the lines of the inserted cells. It is saved as a folder (see
``save_case``) that ``--replay`` checks again: its ``changed.json`` is phase 2's input.
"""

from __future__ import annotations

import ast
import json
import os
import random
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Any

import fuzz_behaviour as fb

CASE = "case.json"
# The report's lines about the notebook's module (src/extract.rs).
_CONFLICT = re.compile(r"conflict: `([^`]+)` in ")
_UPDATED = re.compile(r"`([^`]+)` in \S+ takes the new version")
_MISSING = re.compile(r"imports `([^`]+)` \(cell \d+\) from \S+, which no longer defines it")

# Names of what the changes define: new ones, and a few that collide with the notebook's.
NEW_FUNCS = ["extra", "twice_of", "assist", "summary", "wrap"]
NEW_CLASSES = ["Child", "Extra"]
NEW_CONSTS = ["FACTOR", "NAMES", "STEP"]
HAND_FUNCS = ["by_hand", "mine"]


# ─────────────────────────────────────────────────────────────── what phase 1 left ──

def statement_spans(text: str) -> list[tuple[list[str], int, int, ast.stmt]]:
    """(names bound, first line, end line, node) of each top-level statement, lines 0-based
    and end exclusive, decorators included."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    spans = []
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        spans.append((bound_names(node), start, node.end_lineno, node))
    return spans


def bound_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"]
    targets = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    names = []
    for target in targets:
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                names.append(sub.id)
    return names


def code_of_cell(source: str) -> str:
    """A cell's Python, with magic lines blanked; '' for a cell magic."""
    if source.lstrip().startswith("%%"):
        return ""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def mentions(text: str, name: str) -> bool:
    return re.search(r"(?<![\w.])" + re.escape(name) + r"\b", text) is not None


@dataclass
class Extracted:
    """What the changes are drawn from: the folder as phase 1 left it."""

    cells: list[dict]
    import_at: int | None  # index of the cell that imports the module
    module_path: str | None  # relative to the folder
    module: str = ""
    functions: dict[str, str] = field(default_factory=dict)  # name → statement text
    classes: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    module_imports: list[str] = field(default_factory=list)  # names the module's imports bind
    variables: list[str] = field(default_factory=list)  # names the notebook binds otherwise

    @property
    def hoisted(self) -> list[str]:
        return list(self.functions) + list(self.classes) + list(self.constants)

    def cell_id(self, index: int) -> str:
        return "import" if index == self.import_at else str(self.cells[index].get("id"))

    def uses(self, name: str) -> list[int]:
        """Indexes of the cells after the import cell that mention `name`."""
        start = (self.import_at + 1) if self.import_at is not None else 0
        return [i for i in range(start, len(self.cells))
                if mentions(source_of(self.cells[i]), name)]


def source_of(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def read_extracted(files: dict[str, bytes]) -> Extracted:
    nb = json.loads(files[fb.NOTEBOOK].decode("utf-8"))
    cells = nb.get("cells", [])
    import_at = None
    module_path = None
    own = re.compile(r"^from " + fb.PACKAGE + r"\.([\w.]+) import", re.MULTILINE)
    for i, cell in enumerate(cells):
        match = own.search(source_of(cell))
        if cell.get("cell_type") == "code" and match:
            import_at = i
            module_path = fb.PACKAGE + "/" + match.group(1).replace(".", "/") + ".py"
            break
    ext = Extracted(cells, import_at, module_path)
    if module_path and module_path in files:
        ext.module = files[module_path].decode("utf-8", "replace")
        lines = ext.module.splitlines()
        for names, start, end, node in statement_spans(ext.module):
            text = "\n".join(lines[start:end])
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                ext.functions[node.name] = text
            elif isinstance(node, ast.ClassDef):
                ext.classes[node.name] = text
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                ext.module_imports += [n for n in names if n != "__future__"]
            elif names and isinstance(node, (ast.Assign, ast.AnnAssign)):
                ext.constants[names[0]] = text
    hoisted = set(ext.hoisted)
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        for names, _, _, node in statement_spans(code_of_cell(source_of(cell))):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                ext.variables += [n for n in names if n not in hoisted and n not in ext.variables]
    return ext


# ─────────────────────────────────────────────────────────────────── the changes ──

def function_header_and_body(text: str) -> tuple[list[str], list[str], list[str]] | None:
    """A function's lines: (decorators and signature, docstring lines, other body lines)."""
    try:
        node = ast.parse(text).body[0]
    except (SyntaxError, IndexError):
        return None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    lines = text.splitlines()
    first = node.body[0]
    body_start = min([first.lineno] + [d.lineno for d in getattr(first, "decorator_list", [])]) - 1
    if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        return lines[:body_start], lines[body_start:first.end_lineno], lines[first.end_lineno:]
    return lines[:body_start], [], lines[body_start:]


def with_parameter(text: str, param: str) -> str:
    """A function's text with one more parameter, last (`def f(x, k=STEP):`)."""
    parts = function_header_and_body(text)
    if not parts or not parts[0][-1].rstrip().endswith("):") or "**" in parts[0][-1]:
        return text
    header, doc, rest = parts
    line = header[-1].rstrip()[:-2]
    header = header[:-1] + [line + ("" if line.endswith("(") else ", ") + param + "):"]
    return "\n".join(header + doc + rest)


def params_of(text: str) -> list[str]:
    try:
        node = ast.parse(text).body[0]
    except (SyntaxError, IndexError):
        return []
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return []
    return [a.arg for a in node.args.posonlyargs + node.args.args]


class ChangeGen:
    """Draws a change B (a list of operations) for an extracted folder."""

    def __init__(self, rng: random.Random, ext: Extracted) -> None:
        self.rng = rng
        self.ext = ext
        self.ops: list[dict] = []
        self.force = False
        self.kinds: list[str] = []

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, items):
        return self.rng.choice(items)

    # ── places ──

    def anywhere(self) -> dict:
        """Any place for new cells: the top, the end, around the import cell, around or
        into a cell of the notebook."""
        ext = self.ext
        options: list[dict] = [{"at": "start"}, {"at": "end"}, {"at": "end"}]
        if ext.import_at is not None:
            options += [{"before": "import"}, {"after": "import"}, {"after": "import"}]
        if ext.cells:
            i = self.rng.randrange(len(ext.cells))
            if ext.cells[i].get("cell_type") == "code":
                options.append({self.pick(["before", "after"]): ext.cell_id(i)})
                if not source_of(ext.cells[i]).lstrip().startswith("%%"):
                    options.append({"into": ext.cell_id(i), "at": self.pick(["top", "bottom"])})
        return self.pick(options)

    def near_uses(self, name: str) -> dict:
        """A place for a new version of `name`: with or without cells that use it between
        the import cell and it, above the import cell, or into a cell that uses it."""
        ext = self.ext
        uses = ext.uses(name)
        options: list[dict] = [{"after": "import"}, {"at": "end"}]
        if ext.import_at is not None:
            options += [{"before": "import"}, {"into": "import", "at": "bottom"}]
        if uses:
            options += [{"after": ext.cell_id(self.pick(uses))},
                        {"before": ext.cell_id(self.pick(uses))},
                        {"into": ext.cell_id(self.pick(uses)), "at": self.pick(["top", "bottom"])}]
        return self.pick(options)

    def insert(self, where: dict, cells: list[str]) -> None:
        self.ops.append({"op": "insert", "where": where, "cells": cells})

    # ── code ──

    def call_of(self, name: str) -> str:
        if name in self.ext.classes or name in NEW_CLASSES:
            return self.pick([f"print({name}(2).value())", f"print({name}(3))"])
        if name in self.ext.constants or name in NEW_CONSTS:
            return self.pick([f"print({name})", name])
        return self.pick([f"print({name}(2))", f"{name}(3)"])

    def body(self, params: list[str], exclude: str = "") -> str:
        """A one-statement body that returns something printable, reading the module's
        names, the notebook's variables or imports."""
        ext = self.ext
        x = params[0] if params else "0"
        funcs = [n for n in ext.functions if n != exclude]
        options = [f"return {x} * 3", f"return ('v2', {x})"]
        if funcs:
            h = self.pick(funcs)
            options += [f"return ({h}({x}), 'new')", f"y = {h}({x})\n    return [y, {x}]"]
        if ext.classes:
            options.append(f"return {self.pick(list(ext.classes))}({x}).value()")
        if ext.constants:
            options.append(f"return ({self.pick(list(ext.constants))}, {x})")
        if ext.variables:
            options.append(f"return [{self.pick(ext.variables)}, {x}]")
        if ext.module_imports:
            options.append(f"return {self.pick(ext.module_imports)}.__name__ + str({x})")
        return self.pick(options)

    def new_function(self, name: str) -> str:
        params = "x"
        ext = self.ext
        if self.chance(0.25) and (ext.constants or ext.functions):
            default = (self.pick(list(ext.constants)) if ext.constants and self.chance(0.5)
                       else f"{self.pick(list(ext.functions))}(1)" if ext.functions
                       else self.pick(list(ext.constants)))
            params = f"x, k={default}"
        return f"def {name}({params}):\n    {self.body(['x'])}"

    def new_class(self, name: str, base: str = "") -> str:
        head = f"class {name}({base}):" if base else f"class {name}:"
        if base:
            return f"{head}\n    def more(self):\n        return self.value() + 1"
        return (f"{head}\n    def __init__(self, x):\n        self.x = x\n\n"
                f"    def value(self):\n        {self.body(['self.x'])}")

    def new_constant(self, name: str) -> str:
        ext = self.ext
        options = ["[1, 2, 3]", "0.5", "'abc'"]
        if ext.constants:
            c = self.pick(list(ext.constants))
            options += [f"[{c}, 1]", f"{c}"]
        if ext.functions:
            options.append(f"{self.pick(list(ext.functions))}(2)")
        return f"{name} = {self.pick(options)}"

    def new_version(self, name: str) -> str:
        """Another version of a hoisted statement: another body, a comment, another value."""
        ext = self.ext
        if name in ext.functions:
            text = ext.functions[name]
            parts = function_header_and_body(text)
            if parts is None:
                return text + "  # v2"
            header, doc, rest = parts
            variant = self.rng.randrange(3)
            if variant == 0:  # the same code with a comment: another text, the same behaviour
                return "\n".join(header + doc + ["    # tweaked"] + rest)
            if variant == 1:  # prints when called
                return "\n".join(header + doc + [f"    print('{name} v2')"] + rest)
            body = self.body(params_of(text), exclude=name)
            return "\n".join(header + doc + ["    " + body])
        if name in ext.classes:
            text = ext.classes[name]
            return text + self.pick(["\n\n    def version(self):\n        return 2",
                                     "\n\n    tag = 'v2'", "\n    # tweaked"])
        text = ext.constants[name]
        head, _, value = text.partition("=")
        try:
            literal = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            literal = None
        if isinstance(literal, (int, float)) and not isinstance(literal, bool):
            new = repr(literal + 1)
        elif isinstance(literal, list):
            new = repr(literal + ["v2"])
        elif isinstance(literal, dict):
            new = repr(dict(literal, v2=2))
        elif isinstance(literal, str):
            new = repr(literal + "v2")
        else:
            new = self.pick([f"({value.strip()})", "'v2'"])
        return f"{head.rstrip()} = {new}"

    # ── operations ──

    def op_new_definition(self) -> None:
        kind = self.pick(["function", "function", "class", "constant"])
        if kind == "function":
            pool = NEW_FUNCS + [v for v in self.ext.variables if v.islower()][:2]
            name = self.pick(pool)
            text = self.new_function(name)
        elif kind == "class":
            name = self.pick(NEW_CLASSES)
            text = self.new_class(name)
        else:
            name = self.pick(NEW_CONSTS)
            text = self.new_constant(name)
        cells = [text]
        if self.chance(0.8):
            cells.append(self.call_of(name))
        if self.chance(0.2):
            cells = ["\n\n".join(cells)]
        self.insert(self.anywhere(), cells)

    def op_new_version(self, name: str | None = None) -> None:
        name = name or self.pick(self.ext.hoisted)
        cells = [self.new_version(name)]
        if self.chance(0.7):
            cells.append(self.call_of(name))
        where = self.near_uses(name)
        if self.chance(0.3):  # a use between the import cell and the new version
            self.insert({"after": "import"}, [self.call_of(name)])
        self.insert(where, cells)

    def op_same_copy(self) -> None:
        name = self.pick(self.ext.hoisted)
        text = {**self.ext.functions, **self.ext.classes, **self.ext.constants}[name]
        cells = [text] + ([self.call_of(name)] if self.chance(0.5) else [])
        if self.chance(0.4):  # a use between the import cell and the copy
            self.insert({"after": "import"}, [self.call_of(name)])
            self.insert({"at": "end"}, cells)
        else:
            self.insert(self.near_uses(name), cells)

    def op_indirect_use(self) -> None:
        """A new version of a hoisted function, after a cell that calls it through another
        function (defined anywhere, above the import cell too) without naming it."""
        ext = self.ext
        name = self.pick(list(ext.functions))
        through = self.pick(NEW_FUNCS)
        self.insert(self.pick([{"before": "import"}, {"at": "start"}, self.anywhere()]),
                    [f"def {through}(x):\n    return [{name}(x)]"])
        cells = [f"print({through}(2))", self.new_version(name), f"print({through}(2))"]
        self.insert(self.pick([{"after": "import"}, {"at": "end"}]), cells)

    def op_needs_new(self) -> None:
        """A new version of a hoisted function or class that reads, while it is defined (a
        default value, a base class), a new name that the same change defines."""
        ext = self.ext
        name = self.pick(list(ext.functions) + list(ext.classes))
        if name in ext.classes:
            base = self.pick(NEW_CLASSES)
            first = f"class {base}:\n    def more(self):\n        return 5"
            version = ext.classes[name].replace(f"class {name}:", f"class {name}({base}):", 1)
            use = f"print({name}(2).more())"
        else:
            const = self.pick(NEW_CONSTS)
            first = self.new_constant(const)
            version = with_parameter(ext.functions[name], f"k={const}")
            use = self.call_of(name)
        self.insert(self.near_uses(name) if self.chance(0.3) else {"after": "import"},
                    [first, version, use])

    def op_restore(self) -> None:
        self.ops.append({"op": "restore"})

    def op_module_edit(self) -> None:
        """A hoisted statement changed by hand in the module; often with a new version in
        the notebook too (a conflict)."""
        name = self.pick(self.ext.hoisted)
        self.ops.append({"op": "module_replace", "name": name, "text": self.new_version(name)})
        if self.chance(0.6):
            self.op_new_version(name)
        elif self.chance(0.3):
            self.insert({"at": "end"}, [self.call_of(name)])

    def op_module_user(self) -> None:
        """A function written by hand in the module that uses a hoisted name, imported and
        called by the notebook; often with a new version of that name in the notebook."""
        ext = self.ext
        name = self.pick(ext.hoisted)
        hand = self.pick(HAND_FUNCS)
        use = (f"{name}(x)" if name in ext.functions else f"{name}(x).value()"
               if name in ext.classes else f"({name}, x)")
        if self.chance(0.3):  # a name the module lacks, which the notebook then defines
            new = self.pick(NEW_FUNCS)
            use = f"{new}(x)"
            self.insert(self.anywhere(), [self.new_function(new)])
        self.ops.append({"op": "module_append", "text": f"def {hand}(x):\n    return {use}"})
        if self.chance(0.8):
            self.insert(self.pick([{"after": "import"}, {"at": "end"}]),
                        [f"from {fb.PACKAGE}.{self.module_dotted()} import {hand}",
                         f"print({hand}(2))"])
        if self.chance(0.7):
            self.op_new_version(name)

    def op_module_delete(self) -> None:
        name = self.pick(self.ext.hoisted)
        self.ops.append({"op": "module_delete", "name": name})
        if self.chance(0.4):
            self.op_new_version(name)

    def op_future(self) -> None:
        """`from __future__ import annotations` in the notebook or in the module, and
        annotations that read the module's names (evaluated, or not, when defined)."""
        ext = self.ext
        if self.chance(0.3) and ext.module:
            self.ops.append({"op": "module_future"})
        else:
            self.insert(self.pick([{"at": "start"}, {"before": "import"}, {"after": "import"},
                                   {"at": "end"}]), ["from __future__ import annotations"])
        target = self.pick(list(ext.classes) + list(ext.constants)[:1] + ["int", "Iterable"])
        name = self.pick(NEW_FUNCS)
        cells = [f"def {name}(x: {target}) -> {target}:\n    return x",
                 f"print({name}.__annotations__)"]
        hoisted = [n for n, t in ext.functions.items() if not t.startswith("@")]
        if hoisted and self.chance(0.5):
            # A new version of a hoisted function, now with an annotation.
            h = self.pick(hoisted)
            parts = function_header_and_body(ext.functions[h])
            if parts and parts[0] and parts[0][-1].rstrip().endswith("):"):
                header, doc, rest = parts
                header = header[:-1] + [header[-1].rstrip()[:-2] + f") -> {target}:"]
                cells = ["\n".join(header + doc + rest), f"print({h}.__annotations__)"]
        self.insert(self.pick([{"after": "import"}, {"at": "end"}]), cells)

    def op_decorator(self) -> None:
        """A new definition whose decorator calls the module's code."""
        ext = self.ext
        name = self.pick(NEW_FUNCS)
        decorators = [n for n in ext.functions if n in ("deco", "register", "twice")]
        if decorators and self.chance(0.5):
            text = f"@{self.pick(decorators)}\ndef {name}(x):\n    return x + 1"
        else:
            arg = (f"{self.pick(list(ext.functions))}(2)" if ext.functions
                   else self.pick(list(ext.constants) or ["1"]))
            text = ("def tag(v):\n    def wrap(fn):\n        fn.tag = v\n        return fn\n"
                    f"    return wrap\n\n\n@tag({arg})\ndef {name}(x):\n    return x")
        self.insert(self.anywhere(), [text, f"print({name}(2), getattr({name}, 'tag', None))"])

    def op_subclass(self) -> None:
        ext = self.ext
        base = self.pick(list(ext.classes))
        name = self.pick(NEW_CLASSES)
        cells = [self.new_class(name, base), f"print({name}(2).more())"]
        if self.chance(0.3):
            self.op_new_version(base)
        self.insert(self.anywhere(), cells)

    def op_rebind_import(self) -> None:
        """The notebook binds a name the module imports to something else."""
        ext = self.ext
        name = self.pick(ext.module_imports)
        shadow = self.pick([f"{name} = None", f"def {name}(*a):\n    return 'shadow'",
                            f"{name} = 'shadow'",
                            f"import string as {name}" if name != "string" else f"{name} = 0"])
        self.insert(self.pick([{"after": "import"}, {"before": "import"}, {"at": "end"},
                               self.anywhere()]), [shadow])
        readers = [n for n, t in ext.functions.items() if mentions(t, name)]
        if readers and self.chance(0.6):
            self.op_new_version(self.pick(readers))
        else:
            reader = self.pick(NEW_FUNCS)
            self.insert({"at": "end"}, [f"def {reader}(x):\n    return repr({name})[:30]",
                                        f"print({reader}(1))"])

    def module_dotted(self) -> str:
        path = self.ext.module_path or f"{fb.PACKAGE}/nb.py"
        return path[len(fb.PACKAGE) + 1:-3].replace("/", ".")

    def draw(self) -> dict:
        ext = self.ext
        ops: list[tuple[str, float]] = [("new_definition", 4), ("restore", 1.2)]
        if ext.hoisted:
            ops += [("new_version", 5), ("same_copy", 2), ("module_edit", 2.5),
                    ("module_user", 1.5), ("module_delete", 1), ("needs_new", 1)]
        if ext.functions:
            ops.append(("indirect_use", 1))
        if ext.import_at is not None:
            ops += [("future", 1), ("decorator", 1)]
        if ext.classes:
            ops.append(("subclass", 1))
        if ext.module_imports:
            ops.append(("rebind_import", 1))
        count = self.rng.choices([1, 2, 3], [5, 3, 2])[0]
        for _ in range(count):
            kind = self.rng.choices([k for k, _ in ops], [w for _, w in ops])[0]
            self.kinds.append(kind)
            getattr(self, "op_" + kind)()
        # An autosave comes first: what the other operations insert goes into the old copy.
        self.ops.sort(key=lambda op: op["op"] != "restore")
        edits_module = any(op["op"].startswith("module_") for op in self.ops)
        self.force = self.chance(0.45 if edits_module else 0.1)
        return {"ops": self.ops, "force": self.force, "kinds": self.kinds}


def change_rng(seed: int, index: int) -> random.Random:
    return random.Random(f"rerun {seed} {index}")


def draw_change(seed: int, index: int, files: dict[str, bytes]) -> dict:
    return ChangeGen(change_rng(seed, index), read_extracted(files)).draw()


# ───────────────────────────────────────────────────────────── making a change ──

def _anchor_index(cells: list[dict], anchor: str) -> int | None:
    if anchor == "import":
        own = re.compile(r"^from " + fb.PACKAGE + r"\.[\w.]+ import", re.MULTILINE)
        return next((i for i, c in enumerate(cells)
                     if c.get("cell_type") == "code" and own.search(source_of(c))), None)
    return next((i for i, c in enumerate(cells) if c.get("id") == anchor), None)


def new_cell(source: str, cell_id: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": cell_id, "metadata": {},
            "outputs": [], "source": source.splitlines(keepends=True)}


def insert_cells(cells: list[dict], where: dict, sources: list[str], prefix: str) -> None:
    """Insert code cells at `where`; a missing anchor means the end."""
    if "into" in where:
        i = _anchor_index(cells, where["into"])
        if i is not None:
            text = "\n\n".join(sources)
            old = source_of(cells[i]).strip("\n")
            joined = f"{text}\n\n{old}" if where.get("at") == "top" else f"{old}\n\n{text}"
            cells[i] = dict(cells[i], source=joined.strip("\n").splitlines(keepends=True))
            return
        at = len(cells)
    elif where.get("at") == "start":
        at = 0
    elif "before" in where or "after" in where:
        anchor = where.get("before", where.get("after"))
        i = _anchor_index(cells, anchor)
        at = len(cells) if i is None else i + (1 if "after" in where else 0)
    else:
        at = len(cells)
    for j, source in enumerate(sources):
        cells.insert(at + j, new_cell(source, f"{prefix}{j}"))


def module_edit(text: str, op: dict) -> str:
    """The module's text after one hand edit; unchanged when the name is not there."""
    lines = text.splitlines()
    if op["op"] == "module_append":
        return text.rstrip("\n") + "\n\n\n" + op["text"].rstrip("\n") + "\n"
    if op["op"] == "module_future":
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return text
        at = 0
        if tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(
                getattr(tree.body[0], "value", None), ast.Constant):
            at = tree.body[0].end_lineno
        if any(isinstance(n, ast.ImportFrom) and n.module == "__future__" for n in tree.body):
            return text
        return "\n".join(lines[:at] + ["", "from __future__ import annotations"]
                         + lines[at:]).lstrip("\n") + "\n"
    for names, start, end, _ in statement_spans(text):
        if op["name"] in names[:1]:
            if op["op"] == "module_delete":
                rest = lines[end:]
                while rest and not rest[0].strip():
                    rest = rest[1:]
                head = lines[:start]
                while head and not head[-1].strip():
                    head = head[:-1]
                joined = "\n".join(head + (["", ""] if head and rest else []) + rest)
                return joined + "\n" if joined else ""
            return "\n".join(lines[:start] + op["text"].splitlines() + lines[end:]) + "\n"
    return text


def apply_change(change: dict, files: dict[str, bytes], given: dict | None) -> dict[str, bytes]:
    """The folder after change B. `given` is the notebook as phase 1 gave it to nbhoist (what
    `restore` brings back)."""
    files = dict(files)
    nb = json.loads(files[fb.NOTEBOOK].decode("utf-8"))
    ext = read_extracted(files)
    module_path = ext.module_path
    for k, op in enumerate(change["ops"]):
        kind = op["op"]
        if kind == "insert":
            insert_cells(nb["cells"], op["where"], op["cells"], f"b{k}_")
        elif kind == "restore" and given is not None:
            nb = json.loads(json.dumps(given))
        elif kind.startswith("module_") and module_path and module_path in files:
            text = files[module_path].decode("utf-8")
            files[module_path] = module_edit(text, op).encode("utf-8")
    files[fb.NOTEBOOK] = (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    return files


# ─────────────────────────────────────────────────────────────────── phase 2 ──

def write_tree(folder: str, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = os.path.join(folder, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def run_extract(nbhoist: str, folder: str, args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([nbhoist, "extract", fb.NOTEBOOK, "--package", fb.PACKAGE,
                           "--color", "never", *args], cwd=folder, capture_output=True,
                          timeout=fb.EXTRACT_TIMEOUT, check=False)


def output(proc: subprocess.CompletedProcess) -> str:
    return (proc.stdout + proc.stderr).decode("utf-8", "replace")


def statements(text: str) -> dict[str, list[str]]:
    """First name bound → the texts of the top-level statements that bind it first, in order
    (imports left out: nbhoist writes the import block again with new imports)."""
    lines = text.splitlines()
    out: dict[str, list[str]] = {}
    for names, start, end, node in statement_spans(text):
        if names and not isinstance(node, (ast.Import, ast.ImportFrom)):
            out.setdefault(names[0], []).append("\n".join(lines[start:end]))
    return out


def imported_names(text: str) -> set[str]:
    return {n for names, _, _, node in statement_spans(text)
            if isinstance(node, (ast.Import, ast.ImportFrom)) for n in names}


def changed_paths(a: dict[str, bytes], b: dict[str, bytes]) -> list[str]:
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def check_changed(files: dict[str, bytes], nbhoist: str, force: bool = False,
                  strict_conflicts: bool = False, workdir: str | None = None) -> fb.Outcome:
    """Phase 2 on a changed folder. Needs fb._prepare_zygote() first."""
    root = workdir or tempfile.mkdtemp(prefix="nbhoist-rerun-")
    try:
        return _check_changed(files, nbhoist, force, strict_conflicts, root)
    finally:
        if workdir is None:
            shutil.rmtree(root, ignore_errors=True)


def _fail(outcome: fb.Outcome, category: str, detail: str, *key: Any) -> fb.Outcome:
    outcome.category = category
    outcome.detail = detail
    outcome.key = (category, *key)
    return outcome


def _check_changed(files: dict[str, bytes], nbhoist: str, force: bool,
                   strict_conflicts: bool, root: str) -> fb.Outcome:
    before_dir = os.path.join(root, "changed", "nb")
    after_dir = os.path.join(root, "rerun", "nb")
    for d in (before_dir, after_dir):
        os.makedirs(d)
        write_tree(d, files)
    # The package is imported after the run, as after phase 1; a module the change broke (a
    # function deleted by hand that other code uses) fails before the run too.
    before = fb.run_forked(os.path.join(before_dir, fb.NOTEBOOK),
                           import_modules=sorted(fb.package_modules(before_dir)))
    if "crash" in before:
        return fb.Outcome("harness", f"the changed notebook did not run: {before['crash']}",
                          ("harness",))
    # As in phase 1, with the outputs of its run when it is saved with them.
    doc = json.loads(files[fb.NOTEBOOK].decode("utf-8"))
    given_doc = fb.as_given(doc, before["events"])
    if given_doc is not doc:
        fb.write_notebook(os.path.join(after_dir, fb.NOTEBOOK), given_doc)
    args = ["--force"] if force else []
    given = fb.tree(after_dir)
    outcome = fb.Outcome()

    check = run_extract(nbhoist, after_dir, ["--check", *args])
    if fb.tree(after_dir) != given:
        return _fail(outcome, "rerun-check-wrote", "extract --check changed "
                     + ", ".join(changed_paths(given, fb.tree(after_dir))))

    proc = run_extract(nbhoist, after_dir, args)
    report = output(proc)
    outcome.report = report
    conflicts = _CONFLICT.findall(report)
    missing = _MISSING.findall(report)
    updated = set(_UPDATED.findall(report))
    outcome.moved = len(re.findall(r"^  move ", report, re.MULTILINE))
    outcome.kept = len(re.findall(r"^  stay ", report, re.MULTILINE))
    if proc.returncode not in (0, 1) or (proc.returncode == 1 and not (conflicts or missing)):
        lines = report.strip().splitlines()
        first = next((line for line in lines if "rror" in line), lines[-1] if lines else "")
        return _fail(outcome, "rerun-extract-failed",
                     f"nbhoist extract{' --force' if force else ''} exited {proc.returncode}: "
                     f"{fb.short(first, 200)}", proc.returncode)
    written = fb.tree(after_dir)
    outcome.modules = fb.package_modules(after_dir)
    rewritten_cells = fb.read_cells(os.path.join(after_dir, fb.NOTEBOOK))
    outcome.rewritten = [s for s, _ in rewritten_cells]
    changed = changed_paths(given, written)

    compiled = fb.package_modules(before_dir)
    for name, text in outcome.modules.items():
        if compiled.get(name) == text:
            continue
        try:
            compile(text, name, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as e:
            return _fail(outcome, "rerun-module-compile",
                         f"{name} does not compile: {type(e).__name__}: {e}", type(e).__name__)

    would_change = bool(changed) or proc.returncode == 1
    if (check.returncode == 1) != would_change or check.returncode not in (0, 1):
        return _fail(outcome, "rerun-check-disagrees",
                     f"extract --check exited {check.returncode}, the run exited "
                     f"{proc.returncode} and changed {', '.join(changed) or 'nothing'}",
                     check.returncode, would_change)

    problem = merge_problem(files, written, conflicts, missing, updated, force,
                            strict_conflicts and proc.returncode == 1, changed)
    if problem:
        return _fail(outcome, *problem)

    proc2 = run_extract(nbhoist, after_dir, args)
    if proc2.returncode != proc.returncode or fb.tree(after_dir) != written:
        again = changed_paths(written, fb.tree(after_dir))
        reasons = flipped(report, output(proc2))
        return _fail(outcome, "rerun-not-idempotent",
                     f"a third extract exited {proc2.returncode} (the second "
                     f"{proc.returncode}) and changed {', '.join(again) or 'nothing'}; "
                     + ("it moves what the second kept: " + "; ".join(reasons) if reasons
                        else fb.short(output(proc2), 200)), *reasons)

    after = fb.run_forked(os.path.join(after_dir, fb.NOTEBOOK),
                          import_modules=sorted(outcome.modules))
    if "crash" in after:
        return _fail(outcome, "harness", f"the notebook after the run did not run: "
                     f"{after['crash']}")
    remaining = {cid for _, cid in rewritten_cells}
    removed = {i + 1 for i, (s, cid) in enumerate(fb.read_cells(os.path.join(before_dir,
                                                                             fb.NOTEBOOK)))
               if s.lstrip().startswith("%%writefile") and cid not in remaining}
    b = fb.comparable(before["events"], before_dir, removed)
    a = fb.comparable(after["events"], after_dir, set())
    diff = fb.first_difference(b, a)
    if diff is not None:
        tag, eb, ea = diff
        _fail(outcome, "rerun-behaviour", fb.describe_difference(diff), tag,
              (eb["kind"], eb["text"]) if eb else None, (ea["kind"], ea["text"]) if ea else None)
        outcome.differences = fb.differing_events(b, a)
        return outcome
    failed_before = {(e["module"], e["error"]) for e in before["import_errors"]}
    new_errors = [e for e in after["import_errors"] if (e["module"], e["error"]) not in failed_before]
    if new_errors:
        err = new_errors[0]
        return _fail(outcome, "rerun-module-import", f"import {err['module']} raises "
                     f"{err['error']}: {fb.short(err['message'], 120)}", err["error"])
    return outcome


_STAY = re.compile(r"^  stay  (\S+)\s+cell \d+\s+(.*)$", re.MULTILINE)
_MOVE = re.compile(r"^  move  (\S+)\s", re.MULTILINE)


def flipped(second: str, third: str) -> list[str]:
    """Why the second run kept what the third moves, each reason with its names and numbers
    left out (`reads notebook variable `?` (cell ?)...`): what tells failures apart."""
    moved = set(_MOVE.findall(third))
    reasons = {re.sub(r"\d+", "?", re.sub(r"`[^`]*`", "`?`", reason))
               for name, reason in _STAY.findall(second) if name in moved}
    return sorted(reasons)


def fingerprint(text: str) -> str:
    """The manifest's fingerprint of a statement's text (FNV-1a, 64 bits; src/ownership.rs)."""
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def merge_problem(given: dict[str, bytes], written: dict[str, bytes], conflicts: list[str],
                  missing: list[str], updated: set[str], force: bool, strict: bool,
                  changed: list[str]) -> tuple | None:
    """What a run did to the notebook's module that docs/lifecycle.md says it must not:
    (category, detail, key...), or None."""
    if strict and changed:
        return ("rerun-conflict-wrote", f"the run exits 1 but wrote {', '.join(changed)}",
                "strict")
    path = read_extracted(given).module_path
    if not path or path not in given:
        return None
    old = given[path].decode("utf-8", "replace")
    new = written.get(path, b"").decode("utf-8", "replace")
    if old == new:
        return None
    old_statements, new_statements = statements(old), statements(new)
    for name in conflicts:
        if old_statements.get(name) != new_statements.get(name):
            return ("rerun-conflict-wrote",
                    f"`{name}` is reported as a conflict, but its statement in {path} changed",
                    "conflict")
    for name in missing:
        if name in new_statements or name in imported_names(new):
            return ("rerun-conflict-wrote",
                    f"`{name}` is reported gone from {path}, but the run wrote it again",
                    "missing")
    record = manifest_record(given, path)
    backups = [k for k in written if k.endswith(".bak") and k not in given]
    for name, texts in old_statements.items():
        if name not in updated:
            if new_statements.get(name) != texts:
                how = "is gone" if name not in new_statements else "changed"
                return ("rerun-hand-edit-lost",
                        (f"`{name}` in {path} {how}, and the report does not say it takes a "
                         "new version"), "statement")
            continue
        owned = record.get(name, {}).get("fingerprint") == fingerprint(texts[-1])
        if owned:
            continue
        if not force:
            return ("rerun-hand-edit-lost",
                    (f"`{name}` in {path} was changed or written by hand, and the run "
                     "replaced it without --force"), "overwritten")
        if not any(written[k] == given[path] for k in backups):
            return ("rerun-hand-edit-lost",
                    (f"--force replaced `{name}`, changed by hand, and kept no backup of "
                     f"{path} as it was"), "backup")
    lost = imported_names(old) - imported_names(new)
    if lost:
        return ("rerun-hand-edit-lost", f"{path} no longer imports {', '.join(sorted(lost))}",
                "import")
    return None


def manifest_record(files: dict[str, bytes], module_path: str) -> dict:
    """The manifest's definitions for a module: name → {"cell", "fingerprint"}."""
    manifest = files.get(f"{fb.PACKAGE}/.nbhoist.json")
    if manifest is None:
        return {}
    try:
        modules = json.loads(manifest.decode("utf-8")).get("modules", {})
    except ValueError:
        return {}
    record = modules.get(module_path[len(fb.PACKAGE) + 1:], {})
    return record.get("definitions", {})


# ──────────────────────────────────────────────────────────────── the two phases ──

@dataclass
class Case:
    """One re-run case: notebook A (its cells), change B, and what phase 1 made of A."""

    cells: list[list[fb.Block]]
    metadata: dict | None
    change: dict


def pin_cell_ids(cells: list[list[fb.Block]]) -> list[list[fb.Block]]:
    """Give every block the JSON of its cell, so that a cell keeps its id (the anchor of
    B's insertions) when the cells before it are shrunk away."""
    out = []
    for i, cell in enumerate(cells):
        base = cell[0].cell or {"cell_type": "code", "execution_count": None, "id": f"c{i}",
                                "metadata": {}, "outputs": []}
        out.append([fb.Block(b.production, b.text, b.solo, base, b.starts_cell) for b in cell])
    return out


def extract_first(doc: dict[str, Any], nbhoist: str) -> tuple[dict[str, bytes], dict] | str:
    """Phase 1 without its checks: the folder nbhoist leaves, and the notebook as it was
    given to it; or why there is none."""
    root = tempfile.mkdtemp(prefix="nbhoist-rerun-")
    try:
        folder = os.path.join(root, "extracted", "nb")
        os.makedirs(folder)
        fb.write_notebook(os.path.join(folder, fb.NOTEBOOK), doc)
        orig = os.path.join(root, "original", "nb")
        os.makedirs(orig)
        fb.write_notebook(os.path.join(orig, fb.NOTEBOOK), doc)
        before = fb.run_forked(os.path.join(orig, fb.NOTEBOOK))
        if "crash" in before:
            return f"the original did not run: {before['crash']}"
        given = fb.as_given(doc, before["events"])
        if given is not doc:
            fb.write_notebook(os.path.join(folder, fb.NOTEBOOK), given)
        proc = fb.run_nbhoist(nbhoist, folder)
        if proc.returncode != 0:
            return f"the first extract exited {proc.returncode}"
        return fb.tree(folder), given
    finally:
        shutil.rmtree(root, ignore_errors=True)


def check_case(case: Case, nbhoist: str, strict: bool = False) -> tuple[fb.Outcome, dict]:
    """Phase 1 (extraction only) and phase 2 of a case; the outcome and the folders."""
    first = extract_first(fb.notebook_doc(case.cells, case.metadata), nbhoist)
    if isinstance(first, str):
        return fb.Outcome("rerun-phase-1", first, ("rerun-phase-1",)), {}
    files, given = first
    changed = apply_change(case.change, files, given)
    outcome = check_changed(changed, nbhoist, case.change.get("force", False), strict)
    return outcome, {"extracted": files, "changed": changed, "given": given}


# ─────────────────────────────────────────────────────────────────── shrinking ──

class RerunShrinker(fb.Shrinker):
    """Shrinks a re-run case: B's operations and inserted cells, then A, then the lines of
    the inserted cells; every candidate must fail as the case did."""

    def __init__(self, nbhoist: str, failure: fb.Outcome, case: Case, budget: int = 200,
                 strict: bool = False) -> None:
        super().__init__(nbhoist, failure, budget, case.metadata)
        self.case = case
        self.strict = strict

    def case_fails(self, case: Case) -> bool:
        cells = [c for c in case.cells if c]
        if not cells:
            return False
        key = (tuple(fb.cell_source(c) for c in cells),
               tuple(c[0].cell.get("id") if c[0].cell else "" for c in cells),
               json.dumps(case.change, sort_keys=True))
        if key in self.cache:
            return self.cache[key]
        if self.tests >= self.budget:
            return False
        self.tests += 1
        outcome, _ = check_case(Case(cells, case.metadata, case.change), self.nbhoist,
                                self.strict)
        result = fb.same_failure(outcome, self.failure)
        self.cache[key] = result
        return result

    def fails(self, cells: list[list[fb.Block]]) -> bool:  # A shrinks, B stays
        return self.case_fails(Case(cells, self.case.metadata, self.case.change))

    def with_change(self, change: dict) -> bool:
        return self.case_fails(Case(self.case.cells, self.case.metadata, change))

    def shrink_case(self) -> Case:
        change = self.case.change
        # 1. B's operations
        ops = fb.ddmin(list(change["ops"]), lambda ops: self.with_change(dict(change, ops=ops)))
        change = dict(change, ops=ops)
        self.case = Case(self.case.cells, self.case.metadata, change)
        # 2. the cells B inserts
        slots = [(i, j) for i, op in enumerate(ops) if op["op"] == "insert"
                 for j in range(len(op["cells"]))]

        def keep_cells(keep: list) -> dict:
            kept = set(keep)
            new_ops = []
            for i, op in enumerate(ops):
                if op["op"] != "insert":
                    new_ops.append(op)
                    continue
                cells = [c for j, c in enumerate(op["cells"]) if (i, j) in kept]
                if cells:
                    new_ops.append(dict(op, cells=cells))
            return dict(change, ops=new_ops)

        if len(slots) > 1:
            slots = fb.ddmin(slots, lambda keep: self.with_change(keep_cells(keep)))
            change = keep_cells(slots)
            self.case = Case(self.case.cells, self.case.metadata, change)
        # 3. A
        self.case = Case(self.shrink(self.case.cells), self.case.metadata, change)
        # 4. lines of the inserted cells, one group at a time, to a fixpoint
        changed = True
        while changed and self.tests < self.budget:
            changed = False
            for i, op in enumerate(change["ops"]):
                if op["op"] != "insert":
                    continue
                for j in range(len(op["cells"])):
                    for start, end in reversed(fb._line_groups(op["cells"][j])):
                        lines = change["ops"][i]["cells"][j].splitlines()
                        text = "\n".join(lines[:start] + lines[end:]).strip("\n")
                        if not text.strip():
                            continue
                        new_ops = [dict(o) for o in change["ops"]]
                        new_ops[i]["cells"] = list(new_ops[i]["cells"])
                        new_ops[i]["cells"][j] = text
                        candidate = dict(change, ops=new_ops)
                        if self.with_change(candidate):
                            change = candidate
                            self.case = Case(self.case.cells, self.case.metadata, change)
                            changed = True
        # 5. without --force, when it still fails so
        if change.get("force") and self.with_change(dict(change, force=False)):
            change = dict(change, force=False)
            self.case = Case(self.case.cells, self.case.metadata, change)
        return self.case


# ────────────────────────────────────────────────────── saved cases and replay ──

def is_case(path: str) -> bool:
    return os.path.isfile(os.path.join(path, CASE))


def read_state(case: str, name: str) -> dict[str, bytes]:
    """A folder a case saved: `NAME.json` (each file's path and text), or a folder `NAME/`."""
    saved = os.path.join(case, name + ".json")
    if os.path.isfile(saved):
        with open(saved, encoding="utf-8") as f:
            return {rel: text.encode("utf-8") for rel, text in json.load(f).items()}
    folder = os.path.join(case, name)
    return fb.tree(folder) if os.path.isdir(folder) else {}


def write_state(case: str, name: str, files: dict[str, bytes]) -> None:
    """`NAME.json`: each file of a folder by its path, with its text. One JSON file keeps a
    case's copies of the package (the same `__init__.py` in every case) out of the tree's
    Python files."""
    texts = {rel: data.decode("utf-8", "replace") for rel, data in sorted(files.items())}
    with open(os.path.join(case, name + ".json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(texts, indent=1, ensure_ascii=False) + "\n")


def save_case(out_dir: str, stem: str, title: str, outcome: fb.Outcome, case: Case | None,
              folders: dict, note: str = "") -> str:
    """A folder a replay checks again:

    - ``changed.json``: the folder phase 2 starts from (the notebook and the package after
      B), each file by its path, with its text;
    - ``extracted.json``: the folder as phase 1 left it (before B), to compare with;
    - ``original.ipynb``: notebook A, as phase 1 gave it to nbhoist;
    - ``case.json``: ``force`` (run extract with ``--force``), the change B, what failed;
    - ``failure.txt``: the failure, the change, the notebook and the module before and after.
    """
    path = os.path.join(out_dir, stem)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    for name in ("extracted", "changed"):
        if folders.get(name):
            write_state(path, name, folders[name])
    if folders.get("given"):
        fb.write_notebook(os.path.join(path, "original.ipynb"), folders["given"])
    change = case.change if case else folders.get("change", {})
    with open(os.path.join(path, CASE), "w", encoding="utf-8") as f:
        f.write(json.dumps({"title": title, "category": outcome.category,
                            "detail": outcome.detail, "force": change.get("force", False),
                            "change": change}, indent=1, ensure_ascii=False) + "\n")
    lines = [f"{title}: {outcome.category}", outcome.detail]
    if note:
        lines.append(note)
    lines += ["", f"── the change (extract{' --force' if change.get('force') else ''}) ──",
              json.dumps(change.get("ops", []), indent=1, ensure_ascii=False)]
    for name in ("extracted", "changed"):
        files = folders.get(name) or {}
        if fb.NOTEBOOK in files:
            lines += ["", f"── {name}/{fb.NOTEBOOK} ──"]
            nb = json.loads(files[fb.NOTEBOOK].decode("utf-8"))
            for i, cell in enumerate(nb.get("cells", []), 1):
                lines += [f"[{i}] ({cell.get('id')})", source_of(cell)]
        for rel in sorted(files):
            if rel.endswith(".py"):
                lines += ["", f"── {name}/{rel} ──", files[rel].decode("utf-8", "replace").rstrip()]
    lines += fb.outcome_lines(outcome, "the notebook after the run", " after the run")
    with open(os.path.join(path, "failure.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def replay_case(path: str, nbhoist: str, strict: bool = False) -> tuple[fb.Outcome, dict]:
    with open(os.path.join(path, CASE), encoding="utf-8") as f:
        meta = json.load(f)
    changed = read_state(path, "changed")
    outcome = check_changed(changed, nbhoist, meta.get("force", False), strict)
    folders = {"extracted": read_state(path, "extracted"), "changed": changed,
               "change": {"ops": meta.get("change", {}).get("ops", []),
                          "force": meta.get("force", False)}}
    original = os.path.join(path, "original.ipynb")
    if os.path.exists(original):
        with open(original, encoding="utf-8") as f:
            folders["given"] = json.load(f)
    return outcome, folders


def do_rerun_task(task: dict, nbhoist: str, out_dir: str, shrink_budget: int) -> dict:
    """A worker's task in re-run mode: check (phase 1 and 2), shrink, or save."""
    strict = task.get("strict", False)
    if "case" in task:  # a saved case, replayed
        outcome, folders = replay_case(task["case"], nbhoist, strict)
        if task["op"] == "check":
            return result_of(outcome)
        stem = os.path.basename(os.path.normpath(task["case"]))
        path = save_case(out_dir, stem, task["case"], outcome, None, folders, task.get("note", ""))
        return dict(result_of(outcome), path=path)
    nb, stem, title = fb.task_notebook(task)
    doc = nb.doc()
    if task["op"] == "check":
        outcome = fb.check(doc, nbhoist)
        if not outcome.ok:
            return dict(result_of(outcome), phase=1)
        change = draw_change(task["seed"], task["index"], outcome.state)
        changed = apply_change(change, outcome.state, outcome.given)
        second = check_changed(changed, nbhoist, change["force"], strict)
        result = result_of(second)
        result.update(phase=2, kinds=change["kinds"], moved=outcome.moved + second.moved,
                      kept=outcome.kept + second.kept)
        return result
    # shrink, or save as it is
    first = fb.check(doc, nbhoist)
    if not first.ok:  # a failure of phase 1: shrunk and saved as the fuzzer does
        return fb.do_task(dict(task, rerun=False), nbhoist, out_dir, shrink_budget)
    change = draw_change(task["seed"], task["index"], first.state)
    case = Case(pin_cell_ids(nb.cells), nb.metadata, change)
    failure, folders = check_case(case, nbhoist, strict)
    tests = 0
    note = task.get("note", "")
    if task["op"] == "shrink" and not failure.ok:
        shrinker = RerunShrinker(nbhoist, failure, case, shrink_budget, strict)
        small = shrinker.shrink_case()
        tests = shrinker.tests
        outcome, small_folders = check_case(small, nbhoist, strict)
        if fb.same_failure(outcome, failure):
            case, failure, folders = small, outcome, small_folders
            note = (f"shrunk from {len(nb.cells)} cells and {len(change['ops'])} operations to "
                    f"{len(case.cells)} cells and {len(case.change['ops'])} in {tests} checks")
        else:
            note = "the shrunk case did not fail the same way: kept as it was"
    path = save_case(out_dir, stem, title, failure, case, folders, note)
    return dict(result_of(failure), path=path, cells=len(case.cells),
                productions=sorted(change.get("kinds", [])))


def result_of(outcome: fb.Outcome) -> dict:
    return {"category": outcome.category, "detail": outcome.detail,
            "key": json.dumps(outcome.key), "moved": outcome.moved, "kept": outcome.kept}
