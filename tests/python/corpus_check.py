#!/usr/bin/env python3
"""Check `nbhoist scan` and `nbhoist extract` against a corpus of real notebooks.

Usage: target/test-venv/bin/python tests/python/corpus_check.py --nbhoist BINARY DIR
       target/test-venv/bin/python tests/python/corpus_check.py --scan-json FILE DIR

Normally run through scripts/corpus-check, which builds nbhoist first. Finds every
``*.ipynb`` under DIR (not inside ``.ipynb_checkpoints``), runs
``BINARY scan --format json`` over them in chunks (or reads a saved scan document with
--scan-json), and checks that:

* nbhoist exits with 0 or 2 on every chunk (anything else, such as a panic's 101, fails;
  the chunk's notebooks are then run one by one to name the culprits) and prints JSON of
  the documented shape;
* every notebook appears in the output exactly once, and no other path does;
* a notebook with status "error" or "skipped" has a non-empty message;
* for "ok" notebooks, the cells listed in ``syntax_errors`` are exactly the ones that
  ast_syntax.py (IPython's transformer + CPython's parser and compiler, one statement at a
  time as IPython runs a cell) rejects, except syntax newer than the Python the notebook
  declares, which only the notebook's own Python rejects (a note); every definition sits in a
  code cell; an "ok" notebook must be one that ast_syntax.py checks (nbformat 4,
  Python kernel).

Then (unless --no-extract, and only with --nbhoist) it checks ``nbhoist extract``: it copies
every notebook into a fresh temporary folder (keeping relative paths; DIR is never written),
runs ``BINARY extract --package hoisted`` over the copies in the same chunks, and checks that:

* nbhoist exits with 0 or 2 and reports every notebook exactly once, in the documented text
  format (``PATH → MODULE`` or ``PATH: nothing to hoist`` with ``move``/``stay`` lines, or
  ``PATH: message``; ``note:`` lines; a closing ``Wrote ...`` / ``Nothing to change.``,
  which a totals line ``N notebooks: ...`` may follow);
* a notebook with a module changed on disk and its module exists; any other notebook is
  byte-identical to the original;
* every module written (every ``.py`` file, ``__init__.py`` included) compiles, and pyflakes
  finds no undefined name and no unused module-level import in it (an unused import inside
  a definition is the notebook's own code; it and other pyflakes messages are counted);
* ``ruff check --select E,F,I --isolated`` (the ruff next to this Python) finds nothing in
  them that nbhoist caused. A violation in code copied verbatim from a notebook is the
  user's, and only counted, when ruff reports the same code on a line with the same text in
  the original notebook (or, for a module a ``%%writefile`` cell wrote, in that cell's
  code); anywhere else (the docstring, imports and import guards nbhoist writes, its
  ``__init__.py`` files, lines it rewrote) it fails;
* every notebook module imports from its package, in a fresh interpreter, with every module
  that is not installed replaced by a stub (tests/python/import_stubbed.py);
* every changed notebook is valid nbformat if the original was, and every cell of the
  original that the rewritten notebook still has (matched by a unique cell ``id``) keeps its
  outputs, metadata, execution_count and attachments;
* (a count, not a check) how many pyflakes "imported but unused" warnings the rewritten
  notebooks add to their originals' (code cells as IPython runs them, by name): those left
  are imports nbhoist keeps on purpose (docs/verdicts.md, "Imports only moved code used");
* extract and scan agree: the same definitions, kept for the same reasons (scan decides where
  the import cell goes too);
* running the same commands again changes no file and ends every run with
  "Nothing to change.".

Prints counts and the violations (the first --max-violations of them); exits 1 if there was
any violation, 0 otherwise, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import ast_syntax
import nbformat
from pyflakes import checker as pyflakes_checker
from pyflakes import messages as pyflakes_messages

STATUSES = ("ok", "error", "skipped")
KINDS = ("function", "class")
VERDICTS = ("move", "stay")
ACCEPTED_EXIT_CODES = (0, 2)
PANIC_EXIT_CODE = 101


def find_notebooks(root: str) -> list[str]:
    """Every *.ipynb file under root, sorted, skipping .ipynb_checkpoints folders."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != ".ipynb_checkpoints")
        found.extend(os.path.join(dirpath, name) for name in filenames if name.endswith(".ipynb"))
    return sorted(found)


def chunks(paths: list[str], max_bytes: int, max_count: int) -> list[list[str]]:
    """Split paths into argument lists of bounded total length."""
    out: list[list[str]] = []
    current: list[str] = []
    size = 0
    for path in paths:
        cost = len(os.fsencode(path)) + 1
        if current and (size + cost > max_bytes or len(current) >= max_count):
            out.append(current)
            current, size = [], 0
        current.append(path)
        size += cost
    if current:
        out.append(current)
    return out


@dataclass
class Report:
    violations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def violation(self, text: str) -> None:
        self.violations.append(text)

    def note(self, text: str) -> None:
        self.notes.append(text)


def _tail(text: bytes, lines: int = 15) -> str:
    decoded = text.decode("utf-8", "replace").rstrip("\n").splitlines()
    return "\n".join("    " + line for line in decoded[-lines:])


def _run_scan(binary: str, paths: list[str], timeout: float):
    """(exit code or None on time-out, stdout, stderr) of one `nbhoist scan` run."""
    return _run([binary, "scan", "--format", "json", *paths], timeout)


def _run(cmd: list[str], timeout: float, cwd: str | None = None):
    """(exit code or None on time-out, stdout, stderr) of one command."""
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, check=False, cwd=cwd)
    except subprocess.TimeoutExpired as e:
        return None, e.stdout or b"", e.stderr or b""
    return proc.returncode, proc.stdout, proc.stderr


def _describe_exit(code: int | None, timeout: float) -> str:
    if code is None:
        return f"did not finish within {timeout:g} s"
    if code == PANIC_EXIT_CODE:
        return "panicked (exit 101)"
    if code < 0:
        return f"was killed by signal {-code}"
    return f"exited with {code}"


def run_nbhoist(binary: str, paths: list[str], report: Report, max_bytes: int,
                max_count: int, timeout: float) -> list[Any]:
    """All notebook records nbhoist printed, over all chunks."""
    records: list[Any] = []
    all_chunks = chunks(paths, max_bytes, max_count)
    for index, chunk in enumerate(all_chunks, start=1):
        code, stdout, stderr = _run_scan(binary, chunk, timeout)
        if code not in ACCEPTED_EXIT_CODES:
            report.violation(f"nbhoist scan {_describe_exit(code, timeout)} on chunk {index}/"
                             f"{len(all_chunks)} ({len(chunk)} notebooks, {chunk[0]} ...):\n"
                             + _tail(stderr))
            # Name the notebooks that make it fail, and keep the others' records.
            for path in chunk:
                one_code, one_out, one_err = _run_scan(binary, [path], min(timeout, 120.0))
                if one_code not in ACCEPTED_EXIT_CODES:
                    report.violation(f"nbhoist scan {_describe_exit(one_code, timeout)} on "
                                     f"{path}:\n" + _tail(one_err))
                else:
                    records.extend(parse_scan_output(one_out, f"nbhoist scan {path}", report))
            continue
        records.extend(parse_scan_output(stdout, f"nbhoist scan chunk {index}", report))
    return records


def parse_scan_output(stdout: bytes, what: str, report: Report) -> list[Any]:
    try:
        document = json.loads(stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        report.violation(f"{what}: output is not JSON ({e}); it starts with "
                         f"{stdout[:200]!r}")
        return []
    if not isinstance(document, dict) or not isinstance(document.get("notebooks"), list):
        report.violation(f'{what}: output is not an object with a "notebooks" list')
        return []
    return document["notebooks"]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _objects(record: dict[str, Any], key: str,
             problems: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """(where, item) for every object in the list record[key]; adds to problems when it is not
    a list, and for each item that is not an object."""
    items = record.get(key)
    if not isinstance(items, list):
        problems.append(f'"{key}" is not a list')
        return []
    found = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            found.append((f"{key}[{i}]", item))
        else:
            problems.append(f"{key}[{i}] is not an object")
    return found


def shape_problems(record: Any) -> list[str]:
    """How a notebook record departs from the scan JSON contract (empty if it does not)."""
    if not isinstance(record, dict):
        return ["record is not an object"]
    problems = []
    if not isinstance(record.get("path"), str):
        problems.append('"path" is not a string')
    if record.get("status") not in STATUSES:
        problems.append(f'"status" is {record.get("status")!r}, not one of {STATUSES}')
    if "message" not in record or not (record["message"] is None
                                       or isinstance(record["message"], str)):
        problems.append('"message" is missing or neither a string nor null')
    for where, d in _objects(record, "definitions", problems):
        if not isinstance(d.get("name"), str) or not d["name"].isidentifier():
            problems.append(f"{where}.name is {d.get('name')!r}, not an identifier")
        if d.get("kind") not in KINDS:
            problems.append(f"{where}.kind is {d.get('kind')!r}")
        for key in ("cell", "line"):
            if not _is_int(d.get(key)) or d[key] < 1:
                problems.append(f"{where}.{key} is {d.get(key)!r}, not an integer >= 1")
        if d.get("verdict") not in VERDICTS:
            problems.append(f"{where}.verdict is {d.get('verdict')!r}")
        for key in ("reason", "hint", "code"):
            if key not in d or not (d[key] is None or isinstance(d[key], str)):
                problems.append(f"{where}.{key} is missing or neither a string nor null")
        if (d.get("verdict") == "stay") != isinstance(d.get("code"), str):
            problems.append(f"{where}.code must be given exactly when it stays")
        for key in ("needs", "undefined_in_annotations"):
            names = d.get(key)
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                problems.append(f"{where}.{key} is not a list of strings")
    for where, d in _objects(record, "dropped_imports", problems):
        if not _is_int(d.get("cell")) or d["cell"] < 1:
            problems.append(f"{where}.cell is {d.get('cell')!r}, not an integer >= 1")
        for key in ("import", "reason"):
            if not isinstance(d.get(key), str):
                problems.append(f"{where}.{key} is not a string")
        names = d.get("names")
        if not isinstance(names, list) or not names or not all(
                isinstance(n, str) and n.isidentifier() for n in names):
            problems.append(f"{where}.names is not a list of names")
        if d.get("code") not in ("unused-import", "unused-names"):
            problems.append(f"{where}.code is {d.get('code')!r}")
    for where, e in _objects(record, "syntax_errors", problems):
        for key in ("cell", "line", "column"):
            if not _is_int(e.get(key)) or e[key] < (1 if key != "column" else 0):
                problems.append(f"{where}.{key} is {e.get(key)!r}")
        if not isinstance(e.get("message"), str):
            problems.append(f"{where}.message is not a string")
    return problems


def _path_keys(path: str) -> list[str]:
    return [path, os.path.normpath(path), os.path.abspath(path)]


def check(paths: list[str], records: list[Any], report: Report) -> Counter:
    """Compare nbhoist's records with the reference; returns the counts to print."""
    counts: Counter = Counter()
    by_key: dict[str, str] = {}
    for path in paths:
        for key in _path_keys(path):
            by_key.setdefault(key, path)

    found: dict[str, dict[str, Any] | None] = {}
    for record in records:
        problems = shape_problems(record)
        label = record.get("path") if isinstance(record, dict) else None
        if problems:
            report.violation(f"{label}: record does not match the scan JSON contract: "
                             + "; ".join(problems))
        if not isinstance(label, str):
            continue
        path = next((by_key[k] for k in _path_keys(label) if k in by_key), None)
        if path is None:
            report.violation(f"{label!r}: in nbhoist's output but not one of the "
                             "notebooks asked for")
            continue
        if path in found:
            report.violation(f"{path}: appears more than once in nbhoist's output")
            continue
        found[path] = record if not problems else None

    counts["notebooks"] = len(paths)
    for path in paths:
        if path not in found:
            report.violation(f"{path}: missing from nbhoist's output")
            continue
        record = found[path]
        if record is None:
            continue  # its record is malformed, already reported
        status = record["status"]
        counts[f"status {status}"] += 1
        if status != "ok":
            if not record["message"]:
                report.violation(f"{path}: status {status!r} without a message")
        try:
            reference = ast_syntax.check_notebook(path, compile=True)
        except ast_syntax.NotChecked as e:
            counts["reference skipped"] += 1
            if status == "ok":
                report.violation(f"{path}: nbhoist says ok, but it is not a notebook to check: "
                                 f"{e}")
            continue
        counts["reference checked"] += 1
        if status != "ok":
            report.note(f"{path}: nbhoist says {status} ({record['message']}); the reference "
                        "checked it")
            continue
        compare_ok_notebook(path, record, reference, report, counts)
    return counts


# Seconds one notebook module may take to import.
IMPORT_TIMEOUT = 30.0

# nbhoist's message for syntax the notebook's declared Python does not have yet.
_NEWER_SYNTAX = re.compile(r"on Python 3\.(\d+) \(syntax was added in 3\.\d+\)")


def compare_ok_notebook(path: str, record: dict[str, Any], reference: dict[str, Any],
                        report: Report, counts: Counter) -> None:
    code_cells = set(reference["code_cells"])
    counts["code cells"] += len(code_cells)
    for d in record["definitions"]:
        counts[f"definitions {d['verdict']}"] += 1
        counts[f"definitions {d['kind']}"] += 1
        if d["cell"] not in code_cells:
            report.violation(f"{path}: definition {d['name']!r} is in cell {d['cell']}, "
                             "which is not a code cell")

    ours: dict[int, list[dict[str, Any]]] = {}
    for e in record["syntax_errors"]:
        ours.setdefault(e["cell"], []).append(e)
    theirs: dict[int, str] = reference["syntax_errors"]
    for cell in sorted(set(ours) | set(theirs)):
        if cell in ours and cell in theirs:
            counts["syntax-error cells agreeing"] += 1
            continue
        counts["syntax-error cells disagreeing"] += 1
        if cell in ours:
            first = ours[cell][0]
            newer = _NEWER_SYNTAX.search(first["message"])
            if newer and int(newer.group(1)) < sys.version_info.minor:
                # The notebook declares an older Python than the reference runs on.
                counts["syntax-error cells newer than the notebook's Python"] += 1
                report.note(f"{path}: cell {cell}: {first['message']}; the reference, on "
                            f"{sys.version_info.major}.{sys.version_info.minor}, accepts it")
                continue
            report.violation(
                f"{path}: cell {cell}: nbhoist reports a syntax error at "
                f"{first['line']}:{first['column']} ({first['message']}); "
                "the reference parses the cell")
        else:
            report.violation(f"{path}: cell {cell}: the reference finds a syntax error "
                             f"({theirs[cell]}); nbhoist reports none")


# The extract half -------------------------------------------------------------------------

PACKAGE = "hoisted"
NOTHING_TO_CHANGE = "Nothing to change."
WRITEFILE_MODULE = "%%writefile module"  # the kind of a `%%writefile` cell that moves
WRITEFILE_STAYS = "%%writefile: "  # how the reason of a `%%writefile` cell that stays starts
MOVED_KINDS = ("function", "class", "constant", WRITEFILE_MODULE)
PRESERVED_CELL_FIELDS = ("outputs", "metadata", "execution_count", "attachments")
# pyflakes messages that must not occur in a module nbhoist wrote.
FORBIDDEN_PYFLAKES = (pyflakes_messages.UndefinedName, pyflakes_messages.UndefinedExport,
                      pyflakes_messages.UnusedImport)
# A `%%writefile` cell's name is its target path, which may hold spaces.
_ROW = re.compile(r"  (move|stay) +(\S.*?) +cell (\d+) +(\S.*)")
_DROPPED = re.compile(r"  drop  (\S.*?)  cell (\d+)  (nothing left in the notebook uses "
                      r"(?:it|`[^`]+`(?:, `[^`]+`)*); the module imports (?:it|them))")
# The totals line that may follow the closing line: "3 notebooks: 1 changed, ...".
_TOTALS = re.compile(r"\d+ notebooks?: .*")
_MISSING = object()


@dataclass
class Row:
    """A `move` or `stay` line; `what` is the kind for `move` and the reason for `stay`. The
    name is a definition's or constant's, or a `%%writefile` cell's target."""
    verdict: str
    name: str
    cell: int
    what: str

    @property
    def writefile(self) -> bool:
        """True for a `%%writefile` cell."""
        if self.verdict == "move":
            return self.what == WRITEFILE_MODULE
        return self.what.startswith(WRITEFILE_STAYS)


@dataclass
class Outcome:
    """What `nbhoist extract` printed about one notebook."""
    status: str  # "module" (something moves), "nothing" (nothing to hoist) or "error"
    module: str | None = None  # the module, or the package when only `%%writefile` cells move
    message: str | None = None
    rows: list[Row] = field(default_factory=list)
    # The imports that go: (statement, cell, reason).
    dropped: list[tuple[str, int, str]] = field(default_factory=list)


@dataclass
class ExtractOutput:
    """The text output of one `nbhoist extract` run, parsed."""
    notebooks: dict[str, Outcome] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    last_line: str | None = None  # the closing `Wrote ...` or `Nothing to change.` line
    totals: str | None = None  # the totals line after it, if any
    problems: list[str] = field(default_factory=list)


def _notebook_header(line: str, paths: set[str]) -> tuple[str, Outcome] | None:
    """(path, outcome) when line is `PATH → MODULE`, `PATH: nothing to hoist` or
    `PATH: message` for one of paths (the longest that fits)."""
    found = None
    for match in re.finditer(" → |: ", line):
        if line[:match.start()] in paths:
            found = match
    if found is None:
        return None
    path, rest = line[:found.start()], line[found.end():]
    if found.group() == " → ":
        return path, Outcome("module", module=rest)
    if rest == "nothing to hoist":
        return path, Outcome("nothing")
    return path, Outcome("error", message=rest)


def parse_extract_output(text: str, paths: list[str]) -> ExtractOutput:
    """Parses what `nbhoist extract PATHS...` printed; `problems` lists where the text departs
    from the expected format (an unexpected line, a notebook missing or reported twice)."""
    known = set(paths)
    out = ExtractOutput()
    lines = text.split("\n")
    while lines and lines[-1] == "":
        lines.pop()
    if len(lines) >= 2 and _TOTALS.fullmatch(lines[-1]) and _is_closing(lines[-2]):
        out.totals = lines.pop()
    current: Outcome | None = None
    for number, line in enumerate(lines, start=1):
        dropped = _DROPPED.fullmatch(line)
        if dropped and current is not None and current.status == "module":
            current.dropped.append((dropped[1], int(dropped[2]), dropped[3]))
            continue
        row = _ROW.fullmatch(line)
        if row and current is not None and current.status != "error":
            if row[1] == "move" and row[4] not in MOVED_KINDS:
                out.problems.append(f"line {number}: unknown kind {row[4]!r}: {line!r}")
            current.rows.append(Row(row[1], row[2], int(row[3]), row[4]))
            continue
        if line.startswith("note: "):
            out.notes.append(line[len("note: "):])
            current = None
            continue
        if number == len(lines) and _is_closing(line):
            out.last_line = line
            continue
        header = _notebook_header(line, known)
        if header is not None:
            path, current = header
            if path in out.notebooks:
                out.problems.append(f"{path} is reported more than once")
            else:
                out.notebooks[path] = current
            continue
        if current is not None and current.status == "error":
            current.message = f"{current.message}\n{line}"  # a message of several lines
            continue
        out.problems.append(f"unexpected line {number}: {line!r}")
    if out.last_line is None:
        out.problems.append(f"does not end with `Wrote ...` or {NOTHING_TO_CHANGE!r}")
    for path in paths:
        if path not in out.notebooks:
            out.problems.append(f"{path} is not reported")
    return out


def _is_closing(line: str) -> bool:
    return line == NOTHING_TO_CHANGE or (line.startswith("Wrote ") and line.endswith("."))


def normalise_reason(reason: str) -> str:
    """A reason with its names (`...`) and numbers replaced by X and N, lists of numbers
    collapsed, so that reasons can be counted by kind."""
    text = re.sub(r"`[^`]*`", "X", reason)
    text = re.sub(r"\d+", "N", text)
    return re.sub(r"N(?:, N)*(?: and N)?", "N", text)


def normalise_message(message: str, folder: str) -> str:
    """An error message with paths under folder, kernel languages, names and numbers replaced."""
    text = re.sub(re.escape(folder) + r"\S*", "PATH", message)
    text = re.sub(r"kernel language is .*, not Python", "kernel language is L, not Python", text)
    return normalise_reason(text)


def nbformat_problem(data: bytes) -> str | None:
    """Why nbformat rejects a notebook (read without conversion, then validated), or None."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            nb = nbformat.reads(data.decode("utf-8"), as_version=nbformat.NO_CONVERT)
            nbformat.validate(nb)
        except Exception as e:  # nbformat raises many kinds; every one is a rejection
            message = getattr(e, "message", None) or str(e) or type(e).__name__
            where = "/".join(str(p) for p in getattr(e, "absolute_path", ()) or ())
            text = f"{type(e).__name__}: {message}" + (f" (at {where})" if where else "")
            return text if len(text) <= 300 else text[:297] + "..."
    return None


def _cells_by_id(nb: Any) -> dict[str, tuple[int, dict[str, Any]]]:
    """Cell id → (cell number, cell) for the ids that occur once."""
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        return {}
    found: dict[str, tuple[int, dict[str, Any]]] = {}
    seen: Counter = Counter()
    for number, cell in enumerate(cells, start=1):
        if isinstance(cell, dict) and isinstance(cell.get("id"), str):
            seen[cell["id"]] += 1
            found[cell["id"]] = (number, cell)
    return {key: value for key, value in found.items() if seen[key] == 1}


def lost_cell_fields(before: Any, after: Any) -> list[str]:
    """For each cell of `before` that `after` still has (same id), the preserved fields
    (outputs, metadata, execution_count, attachments) that differ."""
    problems = []
    after_cells = _cells_by_id(after)
    for cell_id, (number, cell) in _cells_by_id(before).items():
        if cell_id not in after_cells:
            continue
        after_number, after_cell = after_cells[cell_id]
        for key in PRESERVED_CELL_FIELDS:
            old, new = cell.get(key, _MISSING), after_cell.get(key, _MISSING)
            if old != new:
                problems.append(f"cell {number} (id {cell_id!r}, now cell {after_number}): "
                                f"{key} changed from {_short_json(old)} to {_short_json(new)}")
    return problems


def _short_json(value: Any) -> str:
    text = "missing" if value is _MISSING else json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


def kept_cells(before: Any, after: Any) -> int:
    """How many cells of `before` `after` still has, matched by unique id."""
    after_cells = _cells_by_id(after)
    return sum(cell_id in after_cells for cell_id in _cells_by_id(before))


def python_files(folder: str) -> list[str]:
    """Every .py file under folder, outside __pycache__ folders, sorted."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        found.extend(os.path.join(dirpath, name) for name in sorted(filenames)
                     if name.endswith(".py"))
    return found


def _writefile_folder(path: str, folders: dict[str, set[tuple[str, str]]]) -> str:
    """The closest folder above path among folders (the package folders that `%%writefile`
    cells were moved into), or ""."""
    parent = os.path.dirname(path)
    while parent not in folders and os.path.dirname(parent) != parent:
        parent = os.path.dirname(parent)
    return parent if parent in folders else ""


def module_problems(data: bytes, filename: str) -> tuple[list[str], Counter]:
    """(violations, counts of other pyflakes messages by kind) of one module's source: it must
    compile (as py_compile does), with no undefined name and no unused module-level import."""
    try:
        tree = ast.parse(data, filename)
        compile(tree, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as e:
        return [f"does not compile: {type(e).__name__}: {e}"], Counter()
    lines = data.decode("utf-8", "replace").splitlines()
    # An unused import inside a definition is the notebook's own code, copied as it is; the
    # module-level imports are the ones nbhoist gathers for the module.
    top_level_imports = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            top_level_imports.update(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))
    problems: list[str] = []
    others: Counter = Counter()
    in_annotations = postponed_annotation_names(tree)
    messages = pyflakes_checker.Checker(tree, filename=filename).messages
    for message in sorted(messages, key=lambda m: (m.lineno, m.col)):
        if isinstance(message, pyflakes_messages.UnusedImport) and (
                message.lineno not in top_level_imports):
            others["UnusedImport inside a definition"] += 1
        elif isinstance(message, pyflakes_messages.UndefinedName) and (
                (message.lineno, message.col) in in_annotations):
            # Never evaluated: nbhoist leaves what nothing defines as the notebook has it.
            others["UndefinedName in a postponed annotation"] += 1
        elif isinstance(message, FORBIDDEN_PYFLAKES):
            line = lines[message.lineno - 1] if 0 < message.lineno <= len(lines) else ""
            problems.append(f"line {message.lineno}: {message.message % message.message_args}"
                            f"\n      {line.strip()}")
        else:
            others[type(message).__name__] += 1
    return problems, others


def unused_imports(nb: Any) -> Counter:
    """pyflakes' "imported but unused" warnings on a notebook's code, by what they name: its
    code cells as IPython runs them (magics turned into calls), one module; cells that do not
    parse are left out."""
    body: list[ast.stmt] = []
    cells = nb.get("cells", []) if isinstance(nb, dict) else []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        tree = ast_syntax.transform_and_parse(
            "".join(source) if isinstance(source, list) else str(source))[0]
        if tree is not None:
            body.extend(tree.body)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        messages = pyflakes_checker.Checker(ast.Module(body=body, type_ignores=[])).messages
    return Counter(message.message_args[0] for message in messages
                   if isinstance(message, pyflakes_messages.UnusedImport))


def postponed_annotation_names(tree: ast.Module) -> set[tuple[int, int]]:
    """(line, column) of every name inside a function's or class's annotations, when the module
    postpones them (`from __future__ import annotations`)."""
    postponed = any(isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__"
                    and any(alias.name == "annotations" for alias in stmt.names)
                    for stmt in tree.body)
    if not postponed:
        return set()
    annotations: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = node.args
            every = (arguments.posonlyargs + arguments.args + arguments.kwonlyargs
                     + [a for a in (arguments.vararg, arguments.kwarg) if a])
            annotations.extend(a.annotation for a in every if a.annotation)
            if node.returns:
                annotations.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
    return {(name.lineno, name.col_offset) for annotation in annotations
            for name in ast.walk(annotation) if isinstance(name, ast.Name)}


def scan_disagreements(record: dict[str, Any], outcome: Outcome) -> list[str]:
    """How extract's verdicts for a notebook depart from scan's record of it, for definitions
    and for `%%writefile` cells. Extract lists a definition that moves once even when the
    notebook repeats it with the same code."""
    if record.get("status") != "ok":
        if outcome.status == "error":
            return []
        return [f"scan says {record.get('status')} ({record.get('message')}), but extract "
                "plans it"]
    if outcome.status == "error":
        return []
    definitions = [(d.get("name"), d.get("cell"), d.get("verdict"), with_hint(d))
                   for d in record.get("definitions") or []]
    writefiles = [(w.get("target"), w.get("cell"), w.get("verdict"), w.get("reason"))
                  for w in record.get("writefiles") or []]
    rows = [row for row in outcome.rows if row.verdict == "stay" or row.what != "constant"]
    dropped = [(d.get("import"), d.get("cell"), d.get("reason"))
               for d in record.get("dropped_imports") or []]
    drops = ([] if dropped == outcome.dropped else
             [f"scan drops {dropped}, extract drops {outcome.dropped}"])
    return (_disagreements("", definitions, [r for r in rows if not r.writefile])
            + _disagreements("%%writefile ", writefiles, [r for r in rows if r.writefile])
            + drops)


def _disagreements(what: str, scan_items: list[tuple[Any, Any, Any, Any]],
                   rows: list[Row]) -> list[str]:
    scan: dict[tuple[Any, Any], list[tuple[Any, Any]]] = {}
    for name, cell, verdict, reason in scan_items:
        scan.setdefault((name, cell), []).append((verdict, reason))
    extract: dict[tuple[Any, Any], list[Row]] = {}
    for row in rows:
        extract.setdefault((row.name, row.cell), []).append(row)
    moved_names = {row.name for row in rows if row.verdict == "move"}
    problems = []
    for name, cell in sorted(set(scan) | set(extract), key=lambda key: (key[1], key[0])):
        theirs, ours = scan.get((name, cell), []), extract.get((name, cell), [])
        scan_stays = [reason for verdict, reason in theirs if verdict == "stay"]
        our_stays = [row.what for row in ours if row.verdict == "stay"]
        if len(ours) > len(theirs):
            problems.append(f"cell {cell}: {what}`{name}`: scan lists {len(theirs)}, "
                            f"extract {len(ours)}")
        elif len(our_stays) < len(scan_stays):
            problems.append(f"cell {cell}: extract moves {what}`{name}` or leaves it out, but "
                            f"scan keeps it ({scan_stays[0]})")
        elif len(ours) < len(theirs) and name not in moved_names:
            problems.append(f"cell {cell}: {what}`{name}`: scan lists {len(theirs)}, "
                            f"extract {len(ours)}, and extract moves no `{name}`")
        elif len(our_stays) > len(scan_stays):
            problems.append(f"cell {cell}: extract keeps {what}`{name}` ({our_stays[0]}), "
                            "which scan moves")
        elif sorted(our_stays) != sorted(scan_stays) and not what:
            problems.append(f"cell {cell}: extract keeps `{name}` ({our_stays[0]}), scan "
                            f"for another reason ({scan_stays[0]})")
    return problems


def with_hint(definition: dict[str, Any]) -> Any:
    """A definition's reason as the text report shows it: `reason: hint`."""
    reason, hint = definition.get("reason"), definition.get("hint")
    return f"{reason}: {hint}" if reason and hint else reason


def snapshot(folder: str) -> dict[str, bytes]:
    """Relative path → bytes of every file under folder, outside __pycache__ folders."""
    files = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in filenames:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, folder)] = f.read()
    return files


def snapshot_changes(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    """`added PATH`, `removed PATH` and `changed PATH` between two snapshots, sorted."""
    changes = [f"added {p}" for p in after if p not in before]
    changes += [f"removed {p}" for p in before if p not in after]
    changes += [f"changed {p}" for p in before if p in after and before[p] != after[p]]
    return sorted(changes, key=lambda change: change.split(" ", 1)[1])


# How the modules are checked: ruff's default rule families, pycodestyle errors (E),
# pyflakes (F) and isort (I), with no configuration file read and nothing written.
RUFF_ARGS = ("check", "--select", "E,F,I", "--isolated", "--no-cache", "--exit-zero",
             "--output-format", "json")
# A module star-imports only because nbhoist put the notebook's star import there, so F403
# (the star import) and F405 (a name it may define) are nbhoist's wherever they are.


def ruff_binary() -> str:
    """The ruff installed next to this Python, where scripts/setup-test-env installs it."""
    return os.path.join(os.path.dirname(sys.executable),
                        "ruff.exe" if os.name == "nt" else "ruff")


def run_ruff(paths: list[str], cwd: str, timeout: float) -> tuple[list[Any], str | None]:
    """ruff's diagnostics (RUFF_ARGS, run from cwd) for paths, and what went wrong, if
    anything."""
    ruff = ruff_binary()
    if not os.path.exists(ruff):
        return [], f"ruff is not installed at {ruff}: scripts/setup-test-env installs it"
    diagnostics: list[Any] = []
    for chunk in chunks(paths, 100_000, 1000):
        code, stdout, stderr = _run([ruff, *RUFF_ARGS, *chunk], timeout, cwd=cwd)
        if code != 0:
            return diagnostics, f"ruff {_describe_exit(code, timeout)}:\n" + _tail(stderr)
        try:
            diagnostics.extend(json.loads(stdout.decode("utf-8")))
        except (UnicodeDecodeError, ValueError) as e:
            return diagnostics, f"ruff printed no JSON ({e})"
    return diagnostics, None


def source_lines(text: str) -> list[str]:
    """The lines of text, split where ruff splits them."""
    return re.split(r"\r\n|\r|\n", text)


def cell_sources(data: bytes) -> list[str]:
    """The sources of a notebook's cells (every cell, as ruff and nbhoist number them)."""
    try:
        cells = json.loads(data).get("cells")
    except (ValueError, AttributeError):
        return []
    if not isinstance(cells, list):
        return []
    sources = []
    for cell in cells:
        source = cell.get("source", "") if isinstance(cell, dict) else ""
        sources.append("".join(source) if isinstance(source, list) else str(source))
    return sources


def reported_line(diagnostic: dict[str, Any], texts: list[str]) -> str | None:
    """The line a ruff diagnostic points at: of cell `cell` (1-based) of a notebook whose cell
    sources are texts, or, without `cell`, of the file whose text is texts[0]."""
    cell = diagnostic.get("cell")
    index = cell - 1 if isinstance(cell, int) else 0
    row = (diagnostic.get("location") or {}).get("row")
    if not 0 <= index < len(texts) or not isinstance(row, int):
        return None
    lines = source_lines(texts[index])
    return lines[row - 1] if 0 < row <= len(lines) else None


def reported_pairs(diagnostics: list[Any], texts: list[str]) -> set[tuple[str, str]]:
    """(code, line text) of each diagnostic ruff reported in a notebook whose cell sources are
    texts, or in a file whose text is texts[0]. Trailing whitespace is not part of the text:
    nbhoist drops it at the end of a block it copies."""
    pairs = set()
    for diagnostic in diagnostics:
        text = reported_line(diagnostic, texts)
        if diagnostic.get("code") and text is not None:
            pairs.add((diagnostic["code"], text.rstrip()))
    return pairs


def ruff_notebook(data: bytes) -> bytes:
    """A notebook's bytes as ruff should read them. ruff skips a notebook that its metadata
    does not say is Python (`language_info`, or else the kernel's `language`); a notebook
    nbhoist hoisted code from is Python, so it gets `"language_info": {"name": "python"}`."""
    try:
        nb = json.loads(data)
        metadata = nb.setdefault("metadata", {})
        info = metadata.get("language_info")
        if isinstance(info, dict) and info.get("name") == "python":
            return data
        metadata["language_info"] = {"name": "python"}
    except (ValueError, AttributeError, TypeError):
        return data
    return json.dumps(nb).encode("utf-8")


def written_lines(source: str) -> set[int]:
    """The lines of a notebook module that nbhoist writes rather than copies from the notebook:
    the docstring, the top-level imports, the guards around imports that may fail (`try:`
    imports `except ImportError: pass`) with the comment above them. Every line when it does
    not parse."""
    lines = source_lines(source)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set(range(1, len(lines) + 1))
    written: set[int] = set()
    for index, stmt in enumerate(tree.body):
        docstring = (index == 0 and isinstance(stmt, ast.Expr)
                     and isinstance(stmt.value, ast.Constant)
                     and isinstance(stmt.value.value, str))
        guard = _is_import_guard(stmt)
        if docstring or guard or isinstance(stmt, (ast.Import, ast.ImportFrom)):
            written.update(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))
        if guard:
            above = stmt.lineno - 1
            while above >= 1 and lines[above - 1].startswith("#"):
                written.add(above)
                above -= 1
    return written


def _is_import_guard(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.Try) or stmt.orelse or stmt.finalbody:
        return False
    if not all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in stmt.body):
        return False
    if len(stmt.handlers) != 1:
        return False
    handler = stmt.handlers[0]
    return (isinstance(handler.type, ast.Name) and handler.type.id == "ImportError"
            and len(handler.body) == 1 and isinstance(handler.body[0], ast.Pass))


def ruff_verdict(code: str | None, text: str | None, copied: bool,
                 theirs: set[tuple[str, str]]) -> str:
    """Whose a ruff violation in a module is: "user" (on a line copied from the notebook, where
    ruff reports the same code on a line with the same text: theirs holds those (code, text)
    pairs) or "nbhoist"."""
    if copied and code is not None and text is not None and (code, text.rstrip()) in theirs:
        return "user"
    return "nbhoist"


@dataclass
class ExtractSummary:
    counts: Counter = field(default_factory=Counter)
    kept_reasons: Counter = field(default_factory=Counter)
    error_messages: Counter = field(default_factory=Counter)
    pyflakes_others: Counter = field(default_factory=Counter)
    ruff_user: Counter = field(default_factory=Counter)  # by code
    ruff_nbhoist: Counter = field(default_factory=Counter)  # by code
    kept_in: str | None = None


class ExtractCheck:
    """One run of the extract checks over copies of the corpus."""

    def __init__(self, binary: str, root: str, work: str, report: Report, timeout: float):
        self.binary = binary
        self.root = root
        self.work = work
        self.report = report
        self.timeout = timeout
        self.summary = ExtractSummary()

    def show(self, text: str) -> str:
        """Text with the copies' paths turned back into the corpus's."""
        return text.replace(self.work + os.sep, os.path.join(self.root, ""))

    def violation(self, text: str) -> None:
        self.report.violation(self.show(text))

    def run(self, paths: list[str], records: list[Any] | None, max_bytes: int,
            max_count: int) -> None:
        originals: dict[str, tuple[str, bytes]] = {}  # copy → (original path, bytes)
        for path in paths:
            copy = os.path.join(self.work, os.path.relpath(path, self.root))
            os.makedirs(os.path.dirname(copy), exist_ok=True)
            with open(path, "rb") as f:
                data = f.read()
            with open(copy, "wb") as f:
                f.write(data)
            originals[copy] = (path, data)
        copies = list(originals)
        counts = self.summary.counts
        counts["given"] = len(copies)

        invocations, outcomes = self.first_run(copies, max_bytes, max_count)
        changed = set()
        for copy, (_, data) in originals.items():
            with open(copy, "rb") as f:
                if f.read() != data:
                    changed.add(copy)
        counts["changed"] = len(changed)
        counts["unchanged"] = len(copies) - len(changed)
        self.check_outcomes(copies, outcomes, changed)
        self.check_modules(outcomes)
        self.check_ruff(outcomes, originals)
        self.check_imports(outcomes)
        self.check_notebooks(sorted(changed), originals)
        if records is not None:
            self.check_against_scan(originals, outcomes, records)
        self.second_run(invocations, outcomes)

    def first_run(self, copies: list[str], max_bytes: int,
                  max_count: int) -> tuple[list[list[str]], dict[str, Outcome]]:
        """Every invocation that exited with 0 or 2, and what each notebook got."""
        invocations: list[list[str]] = []
        outcomes: dict[str, Outcome] = {}
        all_chunks = chunks(copies, max_bytes, max_count)
        for index, chunk in enumerate(all_chunks, start=1):
            code, stdout, stderr = self.extract(chunk, self.timeout)
            done = [(chunk, code, stdout, stderr)]
            if code not in ACCEPTED_EXIT_CODES:
                self.violation(f"nbhoist extract {_describe_exit(code, self.timeout)} on chunk "
                               f"{index}/{len(all_chunks)} ({len(chunk)} notebooks, "
                               f"{chunk[0]} ...):\n" + _tail(stderr))
                # Name the notebooks that make it fail, and extract the others.
                done = []
                timeout = min(self.timeout, 120.0)
                for path in chunk:
                    one = self.extract([path], timeout)
                    if one[0] in ACCEPTED_EXIT_CODES:
                        done.append(([path], *one))
                    else:
                        self.violation(f"nbhoist extract {_describe_exit(one[0], timeout)} on "
                                       f"{path}:\n" + _tail(one[2]))
            for invocation, code, stdout, stderr in done:
                invocations.append(invocation)
                parsed = self.parse(invocation, stdout, stderr, "")
                outcomes.update(parsed.notebooks)
                errors = any(o.status == "error" for o in parsed.notebooks.values())
                if errors != (code == 2):
                    reported = "some notebooks were" if errors else "no notebook was"
                    self.violation(f"nbhoist extract exited with {code} on {invocation[0]} ..., "
                                   f"but {reported} reported as not handled:\n" + _tail(stderr))
        counts = self.summary.counts
        for outcome in outcomes.values():
            counts[f"outcome {outcome.status}"] += 1
            if outcome.status == "error":
                self.summary.error_messages[normalise_message(outcome.message or "",
                                                              self.work)] += 1
            for row in outcome.rows:
                if row.verdict == "move":
                    counts[f"moved {row.what}"] += 1
                else:
                    counts["kept %%writefile" if row.writefile else "kept"] += 1
                    self.summary.kept_reasons[normalise_reason(row.what)] += 1
        return invocations, outcomes

    def extract(self, paths: list[str], timeout: float):
        # Run in the copies' folder, which is then the project's root: one package for the
        # whole corpus, each module at its notebook's path relative to the folder.
        return _run([self.binary, "extract", "--package", PACKAGE, *paths], timeout,
                    cwd=self.work)

    def parse(self, invocation: list[str], stdout: bytes, stderr: bytes,
              which: str) -> ExtractOutput:
        # The notebooks that could not be extracted are reported on stderr, one line each,
        # before the report on stdout.
        failed = [line for line in stderr.decode("utf-8", "replace").splitlines()
                  if not line.startswith("nbhoist: ")]
        text = "".join(f"{line}\n" for line in failed) + stdout.decode("utf-8", "replace")
        parsed = parse_extract_output(text, invocation)
        for outcome in parsed.notebooks.values():
            # Modules are reported relative to the folder extract ran in.
            if outcome.module is not None:
                outcome.module = os.path.join(self.work, outcome.module)
        for problem in parsed.problems:
            self.violation(f"nbhoist extract{which} output over {invocation[0]} ...: {problem}")
        return parsed

    def check_outcomes(self, copies: list[str], outcomes: dict[str, Outcome],
                       changed: set[str]) -> None:
        for copy in copies:
            outcome = outcomes.get(copy)
            if outcome is None:
                continue  # already reported
            if outcome.status == "module":
                if copy not in changed:
                    self.violation(f"{copy}: extract reports module {outcome.module}, but the "
                                   "notebook did not change")
                if not os.path.exists(outcome.module or ""):
                    self.violation(f"{copy}: extract reports module {outcome.module}, which "
                                   "does not exist")
            elif copy in changed:
                what = "nothing to hoist" if outcome.status == "nothing" else "an error"
                self.violation(f"{copy}: the notebook changed, but extract reports {what}")

    def check_modules(self, outcomes: dict[str, Outcome]) -> None:
        """Every .py file in the copies' folder: nbhoist wrote them all (the package and its
        sub-packages, wherever it puts them), as the folder held only notebooks."""
        notebook_of = {os.path.normpath(o.module): copy for copy, o in outcomes.items()
                       if o.module is not None}
        for module in python_files(self.work):
            self.check_module(module, notebook_of)

    def check_ruff(self, outcomes: dict[str, Outcome],
                   originals: dict[str, tuple[str, bytes]]) -> None:
        """ruff over every .py file nbhoist wrote; see RUFF_ARGS and ruff_verdict. In a
        notebook's module nbhoist writes the lines written_lines finds and copies the rest; a
        module a `%%writefile` cell wrote is copied whole; an `__init__.py` is nbhoist's."""
        files = python_files(self.work)
        diagnostics, error = run_ruff(files, self.work, self.timeout)
        if error is not None:
            self.violation(f"ruff over the modules: {error}")
            return
        self.summary.counts["ruff files"] = len(files)
        notebook_of = {os.path.normpath(o.module): copy for copy, o in outcomes.items()
                       if o.module is not None and o.module.endswith(".py")}
        in_notebooks, in_writefiles = self.ruff_in_originals(outcomes, originals, notebook_of)
        counters = {"user": self.summary.ruff_user, "nbhoist": self.summary.ruff_nbhoist}
        texts: dict[str, str] = {}
        written: dict[str, set[int]] = {}  # lines nbhoist wrote, by notebook module
        for diagnostic in diagnostics:
            path = os.path.normpath(str(diagnostic.get("filename")))
            if path not in texts:
                with open(path, encoding="utf-8", errors="replace", newline="") as f:
                    texts[path] = f.read()
                if path in notebook_of:
                    written[path] = written_lines(texts[path])
            text = reported_line(diagnostic, [texts[path]])
            row = (diagnostic.get("location") or {}).get("row")
            if os.path.basename(path) == "__init__.py":
                copied, theirs = False, set()
            elif path in notebook_of:
                copied, theirs = row not in written[path], in_notebooks.get(notebook_of[path])
            else:
                copied, theirs = True, in_writefiles.get(_writefile_folder(path, in_writefiles))
            code = diagnostic.get("code")
            verdict = ruff_verdict(code, text, copied, theirs or set())
            counters[verdict][code or "syntax error"] += 1
            if verdict == "nbhoist":
                source = notebook_of.get(path)
                label = path + (f" (from {source})" if source else "")
                self.violation(f"{label}: line {row}: ruff {code}: {diagnostic.get('message')}"
                               f"\n      {(text or '').strip()}")

    def ruff_in_originals(self, outcomes: dict[str, Outcome],
                          originals: dict[str, tuple[str, bytes]], notebook_of: dict[str, str]
                          ) -> tuple[dict[str, set[tuple[str, str]]],
                                     dict[str, set[tuple[str, str]]]]:
        """What ruff reports in the code the modules were copied from, as (code, line text)
        pairs (see reported_pairs): by notebook copy for each original notebook that has a
        module, and by package folder for the `%%writefile` cells that became modules there.
        ruff reads copies in a temporary folder: the notebooks as ruff_notebook makes them,
        and each cell's code after its `%%writefile` line as a .py file."""
        with tempfile.TemporaryDirectory(prefix="nbhoist-ruff-") as temporary:
            folder = os.path.realpath(temporary)  # as ruff names the files it checked
            # A checked file → (notebook copy or package folder, the texts rows refer to).
            sources: dict[str, tuple[str, list[str]]] = {}
            for copy in sorted(set(notebook_of.values())):
                data = originals[copy][1]
                path = os.path.join(folder, f"{len(sources)}.ipynb")
                with open(path, "wb") as f:
                    f.write(ruff_notebook(data))
                sources[path] = (copy, cell_sources(data))
            for copy, outcome in sorted(outcomes.items()):
                rows = [r for r in outcome.rows if r.verdict == "move" and r.writefile]
                if not rows or outcome.module is None or copy not in originals:
                    continue
                package = os.path.normpath(outcome.module if not outcome.module.endswith(".py")
                                           else os.path.dirname(outcome.module))
                cells = cell_sources(originals[copy][1])
                for row in rows:
                    if 0 < row.cell <= len(cells):
                        _, _, code = cells[row.cell - 1].partition("\n")
                        path = os.path.join(folder, f"{len(sources)}.py")
                        with open(path, "w", encoding="utf-8", newline="") as f:
                            f.write(code)
                        sources[path] = (package, [code])
            diagnostics, error = run_ruff(sorted(sources), folder, self.timeout)
            if error is not None:
                self.violation(f"ruff over the original notebooks: {error}")
            found: dict[str, list[Any]] = {}
            for diagnostic in diagnostics:
                path = os.path.normpath(str(diagnostic.get("filename")))
                if path in sources:
                    found.setdefault(path, []).append(diagnostic)
        in_notebooks: dict[str, set[tuple[str, str]]] = {}
        in_writefiles: dict[str, set[tuple[str, str]]] = {}
        for path, diagnostics in found.items():
            key, texts = sources[path]
            into = in_notebooks if path.endswith(".ipynb") else in_writefiles
            into.setdefault(key, set()).update(reported_pairs(diagnostics, texts))
        return in_notebooks, in_writefiles

    def check_imports(self, outcomes: dict[str, Outcome]) -> None:
        """Every notebook module nbhoist wrote imports, from its package, with the modules
        that are not installed stubbed (tests/python/import_stubbed.py), each in a process of
        its own."""
        by_folder: dict[str, list[tuple[str, str]]] = {}
        for copy, outcome in outcomes.items():
            if outcome.module is None:
                continue
            module = os.path.normpath(outcome.module)
            parts = [os.path.splitext(os.path.basename(module))[0]]
            folder = os.path.dirname(module)
            while os.path.isfile(os.path.join(folder, "__init__.py")):
                parts.insert(0, os.path.basename(folder))
                folder = os.path.dirname(folder)
            if len(parts) > 1:
                by_folder.setdefault(folder, []).append((".".join(parts), copy))
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "import_stubbed.py")
        jobs = [(folder, dotted, copy) for folder, modules in sorted(by_folder.items())
                for dotted, copy in modules]

        def run(job):
            folder, dotted, _ = job
            return _run([sys.executable, script, folder, dotted], IMPORT_TIMEOUT)

        # Mostly all of a folder's modules import in one process; only where one fails does
        # each get a process of its own, to say which.
        alone = []
        for folder, modules in sorted(by_folder.items()):
            names = sorted({dotted for dotted, _ in modules})
            code, out, err = _run([sys.executable, script, folder, *names], IMPORT_TIMEOUT * 4)
            try:
                results = json.loads(out.decode("utf-8").strip().splitlines()[-1])
            except (ValueError, IndexError):
                results = {}
            if len(results) == len(names) and all(v is None for v in results.values()):
                self.summary.counts["modules imported"] += len(modules)
            else:
                alone.extend(job for job in jobs if job[0] == folder)
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            for (folder, dotted, copy), (code, out, err) in zip(alone, pool.map(run, alone)):
                self.summary.counts["modules imported"] += 1
                try:
                    error = json.loads(out.decode("utf-8").strip().splitlines()[-1])[dotted]
                except (ValueError, IndexError, KeyError):
                    error = f"the check {_describe_exit(code, IMPORT_TIMEOUT)}:\n{_tail(err)}"
                if error is not None:
                    self.violation(f"{copy}: `import {dotted}` (modules that are not installed "
                                   f"stubbed) raises {error}")

    def check_module(self, module: str, notebook_of: dict[str, str]) -> None:
        is_init = os.path.basename(module) == "__init__.py"
        self.summary.counts["inits" if is_init else "modules"] += 1
        with open(module, "rb") as f:
            data = f.read()
        problems, others = module_problems(data, module)
        self.summary.pyflakes_others.update(others)
        source = notebook_of.get(os.path.normpath(module))
        label = module + (f" (from {source})" if source else "")
        for problem in problems:
            self.violation(f"{label}: {problem}")

    def check_notebooks(self, changed: list[str],
                        originals: dict[str, tuple[str, bytes]]) -> None:
        for copy in changed:
            before = originals[copy][1]
            with open(copy, "rb") as f:
                after = f.read()
            problem = nbformat_problem(after)
            if problem is not None:
                if nbformat_problem(before) is None:
                    self.violation(f"{copy}: the rewritten notebook is not valid nbformat "
                                   f"({problem}); the original is")
                else:
                    self.summary.counts["invalid before and after"] += 1
            try:
                old = json.loads(before)
            except ValueError:
                continue  # unreadable: check_outcomes flags it if it changed
            try:
                new = json.loads(after)
            except ValueError as e:
                self.violation(f"{copy}: the rewritten notebook is not JSON ({e})")
                continue
            self.summary.counts["cells compared"] += kept_cells(old, new)
            added = unused_imports(new) - unused_imports(old)
            self.summary.counts["unused imports added"] += sum(added.values())
            self.summary.counts["notebooks with unused imports added"] += bool(added)
            for lost in lost_cell_fields(old, new):
                self.violation(f"{copy}: {lost}")

    def check_against_scan(self, originals: dict[str, tuple[str, bytes]],
                           outcomes: dict[str, Outcome], records: list[Any]) -> None:
        by_path = {os.path.normpath(r["path"]): r for r in records
                   if isinstance(r, dict) and isinstance(r.get("path"), str)}
        for copy, (path, _) in originals.items():
            record, outcome = by_path.get(os.path.normpath(path)), outcomes.get(copy)
            if record is None or outcome is None or shape_problems(record):
                continue  # already reported
            for problem in scan_disagreements(record, outcome):
                self.violation(f"{copy}: extract and scan disagree: {problem}")

    def second_run(self, invocations: list[list[str]], first: dict[str, Outcome]) -> None:
        before = snapshot(self.work)
        for invocation in invocations:
            code, stdout, stderr = self.extract(invocation, self.timeout)
            self.summary.counts["second-run invocations"] += 1
            if code not in ACCEPTED_EXIT_CODES:
                self.violation(f"second nbhoist extract {_describe_exit(code, self.timeout)} "
                               f"over {invocation[0]} ...:\n" + _tail(stderr))
                continue
            parsed = self.parse(invocation, stdout, stderr, " (second run)")
            named = False
            for path, outcome in parsed.notebooks.items():
                if outcome.status == "module":
                    moves = [row.name for row in outcome.rows if row.verdict == "move"]
                    self.violation(f"{path}: a second extract hoists again: "
                                   f"{', '.join(moves)}")
                    named = True
                elif outcome.status == "error" and first.get(path, outcome).status != "error":
                    self.violation(f"{path}: a second extract fails: {outcome.message}")
                    named = True
            if parsed.last_line not in (None, NOTHING_TO_CHANGE) and not named:
                self.violation(f"second nbhoist extract over {invocation[0]} ... ends with "
                               f"{parsed.last_line!r}, not {NOTHING_TO_CHANGE!r}")
        changes = snapshot_changes(before, snapshot(self.work))
        self.summary.counts["second-run file changes"] = len(changes)
        for change in changes:
            self.violation(f"the second extract {change.split(' ', 1)[0]} "
                           f"{os.path.join(self.work, change.split(' ', 1)[1])}")


def check_extract(binary: str, root: str, paths: list[str], records: list[Any] | None,
                  report: Report, max_bytes: int, max_count: int, timeout: float,
                  work_dir: str | None = None) -> ExtractSummary:
    """Runs the extract checks over copies of paths (which are under root), in a fresh
    temporary folder removed afterwards, or in work_dir, which is kept."""
    work = tempfile.mkdtemp(prefix="nbhoist-corpus-") if work_dir is None else work_dir
    work = os.path.realpath(work)
    os.makedirs(work, exist_ok=True)
    check = ExtractCheck(binary, root, work, report, timeout)
    try:
        check.run(paths, records, max_bytes, max_count)
    finally:
        if work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
        else:
            check.summary.kept_in = work
    return check.summary


def print_extract_summary(summary: ExtractSummary, out=sys.stdout) -> None:
    counts = summary.counts
    print(f"extract: {counts['given']} notebooks given, {counts['changed']} changed, "
          f"{counts['unchanged']} unchanged, {counts['outcome error']} errors "
          f"({counts['outcome module']} with a module, {counts['outcome nothing']} with "
          "nothing to hoist)", file=out)
    hoisted = counts["moved function"] + counts["moved class"]
    print(f"extract definitions: {hoisted} hoisted ({counts['moved function']} functions, "
          f"{counts['moved class']} classes), {counts['moved constant']} constants hoisted, "
          f"{counts['kept']} kept", file=out)
    print(f"extract %%writefile cells: {counts['moved ' + WRITEFILE_MODULE]} become modules, "
          f"{counts['kept %%writefile']} stay", file=out)

    def top(title: str, counter: Counter, limit: int) -> None:
        if not counter:
            return
        print(f"{title} (top {min(limit, len(counter))} of {len(counter)}):", file=out)
        for text, count in counter.most_common(limit):
            print(f"  {count:6}  {text}", file=out)

    top("kept by reason (definitions and %%writefile cells)", summary.kept_reasons, 15)
    top("extract errors by message", summary.error_messages, 10)
    print(f"package files written: {counts['modules']} modules, {counts['inits']} __init__.py; "
          f"{counts['modules imported']} notebook modules imported (uninstalled modules stubbed)",
          file=out)
    others = ", ".join(f"{count} {kind}" for kind, count in summary.pyflakes_others.most_common())
    print(f"pyflakes, other messages: {others or 'none'}", file=out)

    def by_code(counter: Counter) -> str:
        total = sum(counter.values())
        codes = ", ".join(f"{count} {code}" for code, count in sorted(
            counter.items(), key=lambda item: (-item[1], item[0])))
        return f"{total} ({codes})" if total else "0"

    print(f"ruff check --select E,F,I: {counts['ruff files']} files checked; violations in "
          f"code copied from the notebooks, which ruff reports there too: "
          f"{by_code(summary.ruff_user)}; nbhoist's: {by_code(summary.ruff_nbhoist)}", file=out)
    print(f"changed notebooks: {counts['unused imports added']} pyflakes \"imported but unused\" "
          f"warnings added (rewritten minus original, by name) in "
          f"{counts['notebooks with unused imports added']} notebooks", file=out)
    print(f"changed notebooks: {counts['cells compared']} cells kept (matched by id) compared, "
          f"{counts['invalid before and after']} invalid nbformat before and after", file=out)
    print(f"second run: {counts['second-run invocations']} invocations, "
          f"{counts['second-run file changes']} files changed", file=out)
    if summary.kept_in:
        print(f"copies kept in {summary.kept_in}", file=out)
    print("(extract ran on copies: paths below name the corpus notebooks they came from, and "
          "the files nbhoist wrote as if it had written them in DIR)", file=out)


def print_summary(counts: Counter, report: Report, extract: ExtractSummary | None = None,
                  max_violations: int | None = None, out=sys.stdout) -> None:
    def line(label: str, *items: tuple[str, str]) -> None:
        parts = ", ".join(f"{counts.get(key, 0)} {name}" for key, name in items)
        print(f"{label}: {parts}", file=out)

    line("notebooks", ("notebooks", "found"), ("status ok", "ok"), ("status error", "error"),
         ("status skipped", "skipped"))
    line("reference (ast_syntax.py)", ("reference checked", "checked"),
         ("reference skipped", "skipped"))
    line("ok notebooks", ("code cells", "code cells"))
    line("definitions", ("definitions move", "move"), ("definitions stay", "stay"),
         ("definitions function", "functions"), ("definitions class", "classes"))
    line("syntax-error cells", ("syntax-error cells agreeing", "agreeing"),
         ("syntax-error cells disagreeing", "disagreeing"))
    if extract is not None:
        print_extract_summary(extract, out)
    if report.notes:
        print(f"\nnotes ({len(report.notes)}, not failures):", file=out)
        for note in report.notes:
            print(f"  {note}", file=out)
    if report.violations:
        print(f"\nVIOLATIONS ({len(report.violations)}):", file=out)
        shown = report.violations[:max_violations]
        for violation in shown:
            print(f"  {violation}", file=out)
        if len(shown) < len(report.violations):
            print(f"  ... and {len(report.violations) - len(shown)} more "
                  "(--max-violations shows more)", file=out)
        print("\ncorpus check FAILED", file=out)
    else:
        print("\ncorpus check passed", file=out)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="corpus_check.py",
        description="Check `nbhoist scan` and `nbhoist extract` against a notebook corpus.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--nbhoist", metavar="BINARY", help="the nbhoist binary to run")
    source.add_argument("--scan-json", metavar="FILE",
                        help="read this saved `nbhoist scan --format json` output instead")
    parser.add_argument("dir", metavar="DIR", help="folder to search for *.ipynb files")
    parser.add_argument("--chunk-bytes", type=int, default=100_000,
                        help="most bytes of paths on one nbhoist command line")
    parser.add_argument("--chunk-files", type=int, default=1000,
                        help="most notebooks on one nbhoist command line")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds one nbhoist run may take")
    parser.add_argument("--no-extract", action="store_true",
                        help="check `nbhoist scan` only, not `nbhoist extract`")
    parser.add_argument("--extract-dir", metavar="FOLDER",
                        help="copy the notebooks for the extract checks into FOLDER (which "
                             "must not exist or be empty) and keep them, instead of a "
                             "temporary folder")
    parser.add_argument("--max-violations", type=int, default=50,
                        help="most violations to print (all are counted)")
    args = parser.parse_args(argv[1:])

    if not os.path.isdir(args.dir):
        parser.error(f"not a folder: {args.dir}")
    paths = find_notebooks(args.dir)
    if not paths:
        parser.error(f"no *.ipynb files under {args.dir}")
    if args.extract_dir is not None and os.path.exists(args.extract_dir) and (
            not os.path.isdir(args.extract_dir) or os.listdir(args.extract_dir)):
        parser.error(f"not an empty folder: {args.extract_dir}")
    if args.extract_dir is not None and os.path.realpath(args.extract_dir).startswith(
            os.path.join(os.path.realpath(args.dir), "")):
        parser.error("--extract-dir must not be inside DIR, which is never written")

    report = Report()
    if args.nbhoist is not None:
        records = run_nbhoist(args.nbhoist, paths, report, args.chunk_bytes, args.chunk_files,
                              args.timeout)
    else:
        with open(args.scan_json, "rb") as f:
            records = parse_scan_output(f.read(), args.scan_json, report)
    counts = check(paths, records, report)
    extract = None
    if args.nbhoist is not None and not args.no_extract:
        extract = check_extract(args.nbhoist, args.dir, paths, records, report,
                                args.chunk_bytes, args.chunk_files, args.timeout,
                                args.extract_dir)
    print_summary(counts, report, extract, args.max_violations)
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
