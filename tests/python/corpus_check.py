#!/usr/bin/env python3
"""Check `nbhoist scan` against a corpus of real notebooks.

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
  ast_syntax.py (IPython's transformer + CPython's parser) rejects, and every definition
  sits in a code cell; an "ok" notebook must be one that ast_syntax.py checks (nbformat 4,
  Python kernel).

Prints counts and every violation; exits 1 if there was any violation, 0 otherwise, 2 on
bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import ast_syntax

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
    cmd = [binary, "scan", "--format", "json", *paths]
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, check=False)
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
    definitions = record.get("definitions")
    if not isinstance(definitions, list):
        problems.append('"definitions" is not a list')
    else:
        for i, d in enumerate(definitions):
            where = f"definitions[{i}]"
            if not isinstance(d, dict):
                problems.append(f"{where} is not an object")
                continue
            if not isinstance(d.get("name"), str) or not d["name"].isidentifier():
                problems.append(f"{where}.name is {d.get('name')!r}, not an identifier")
            if d.get("kind") not in KINDS:
                problems.append(f"{where}.kind is {d.get('kind')!r}")
            for key in ("cell", "line"):
                if not _is_int(d.get(key)) or d[key] < 1:
                    problems.append(f"{where}.{key} is {d.get(key)!r}, not an integer >= 1")
            if d.get("verdict") not in VERDICTS:
                problems.append(f"{where}.verdict is {d.get('verdict')!r}")
            if "reason" not in d or not (d["reason"] is None or isinstance(d["reason"], str)):
                problems.append(f"{where}.reason is missing or neither a string nor null")
            needs = d.get("needs")
            if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
                problems.append(f"{where}.needs is not a list of strings")
    syntax_errors = record.get("syntax_errors")
    if not isinstance(syntax_errors, list):
        problems.append('"syntax_errors" is not a list')
    else:
        for i, e in enumerate(syntax_errors):
            where = f"syntax_errors[{i}]"
            if not isinstance(e, dict):
                problems.append(f"{where} is not an object")
                continue
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
            reference = ast_syntax.check_notebook(path)
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
            report.violation(
                f"{path}: cell {cell}: nbhoist reports a syntax error at "
                f"{first['line']}:{first['column']} ({first['message']}); "
                "the reference parses the cell")
        else:
            report.violation(f"{path}: cell {cell}: the reference finds a syntax error "
                             f"({theirs[cell]}); nbhoist reports none")


def print_summary(counts: Counter, report: Report, out=sys.stdout) -> None:
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
    if report.notes:
        print(f"\nnotes ({len(report.notes)}, not failures):", file=out)
        for note in report.notes:
            print(f"  {note}", file=out)
    if report.violations:
        print(f"\nVIOLATIONS ({len(report.violations)}):", file=out)
        for violation in report.violations:
            print(f"  {violation}", file=out)
        print("\ncorpus check FAILED", file=out)
    else:
        print("\ncorpus check passed", file=out)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="corpus_check.py", description="Check `nbhoist scan` against a notebook corpus.")
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
    args = parser.parse_args(argv[1:])

    if not os.path.isdir(args.dir):
        parser.error(f"not a folder: {args.dir}")
    paths = find_notebooks(args.dir)
    if not paths:
        parser.error(f"no *.ipynb files under {args.dir}")

    report = Report()
    if args.nbhoist is not None:
        records = run_nbhoist(args.nbhoist, paths, report, args.chunk_bytes, args.chunk_files,
                              args.timeout)
    else:
        with open(args.scan_json, "rb") as f:
            records = parse_scan_output(f.read(), args.scan_json, report)
    counts = check(paths, records, report)
    print_summary(counts, report)
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
