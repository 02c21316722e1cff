"""Tests of the Python tools that nbhoist's tests use (run by scripts/test).

Run alone with: target/test-venv/bin/python -m unittest discover -s tests/python
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unittest
from collections import Counter

import ast_syntax
import corpus_check

HERE = os.path.dirname(os.path.abspath(__file__))


def write_notebook(path: str, cells: list[tuple[str, str]], language: str = "python",
                   as_lists: bool = True) -> None:
    """Write an nbformat 4 notebook with the given (cell_type, source) cells."""
    out = []
    for kind, source in cells:
        cell = {"cell_type": kind, "metadata": {},
                "source": source.splitlines(keepends=True) if as_lists else source}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        out.append(cell)
    nb = {"nbformat": 4, "nbformat_minor": 5, "cells": out,
          "metadata": {"kernelspec": {"name": "k", "display_name": "K", "language": language}}}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(nb, f)


class RunNotebookTest(unittest.TestCase):
    def run_notebook(self, cells: list[tuple[str, str]]) -> list[dict]:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "nb.ipynb")
            write_notebook(path, cells)
            with open(os.path.join(folder, "helper.py"), "w") as f:
                f.write("def where():\n    return 'helper next to the notebook'\n")
            proc = subprocess.run([sys.executable, os.path.join(HERE, "run_notebook.py"), path],
                                  capture_output=True, check=False, cwd=HERE, timeout=120)
            self.assertEqual(proc.returncode, 0, proc.stderr.decode())
            return json.loads(proc.stdout.decode("utf-8"))

    def test_events(self):
        events = self.run_notebook([
            ("markdown", "# cells are numbered among all cells"),
            ("code", "import sys\nprint('out')\nprint('err', file=sys.stderr)\nprint('more')\n1 + 1"),
            ("code", "display('shown')\nprint('after')\nx = 'ünï ✓'\nx"),
            ("code", "x;"),
            ("code", "undefined_name"),
            ("code", "def broken(:\n    pass"),
            ("code", "print('runs on after errors')"),
            ("code", "!echo shell $x\n!echo to-stderr >&2\nprint(_exit_code)"),
            ("code", "lines = !printf 'a\\nb\\n'\nlines"),
            ("code", "import os\nos.system('echo from fd 1')\nprint(os.path.basename(os.getcwd()) != '')"),
            ("code", "%%writefile mod_a.py\nVALUE = 1\n"),
            ("code", "%load_ext autoreload\n%autoreload 2\nimport mod_a\nmod_a.VALUE"),
            ("code", "%%writefile mod_a.py\nVALUE = 2\n"),
            ("code", "mod_a.VALUE"),
            ("code", "import helper\nhelper.where()"),
            ("code", "%no_such_magic"),
            ("code", "import asyncio\nawait asyncio.sleep(0)\n'awaited'"),
            ("raw", "not run"),
            ("code", "input()"),
        ])
        self.assertEqual(events, [
            {"cell": 2, "kind": "stdout", "text": "out\n"},
            {"cell": 2, "kind": "stderr", "text": "err\n"},
            {"cell": 2, "kind": "stdout", "text": "more\n"},
            {"cell": 2, "kind": "result", "text": "2"},
            {"cell": 3, "kind": "display", "text": "'shown'"},
            {"cell": 3, "kind": "stdout", "text": "after\n"},
            {"cell": 3, "kind": "result", "text": "'ünï ✓'"},
            {"cell": 5, "kind": "error", "text": "NameError"},
            {"cell": 6, "kind": "error", "text": "SyntaxError"},
            {"cell": 7, "kind": "stdout", "text": "runs on after errors\n"},
            {"cell": 8, "kind": "stdout", "text": "shell ünï ✓\nto-stderr\n0\n"},
            {"cell": 9, "kind": "result", "text": "['a', 'b']"},
            {"cell": 10, "kind": "stdout", "text": "from fd 1\nTrue\n"},
            {"cell": 11, "kind": "stdout", "text": "Writing mod_a.py\n"},
            {"cell": 12, "kind": "result", "text": "1"},
            {"cell": 13, "kind": "stdout", "text": "Overwriting mod_a.py\n"},
            {"cell": 14, "kind": "result", "text": "2"},
            {"cell": 15, "kind": "result", "text": "'helper next to the notebook'"},
            {"cell": 16, "kind": "error", "text": "UsageError"},
            {"cell": 17, "kind": "result", "text": "'awaited'"},
            {"cell": 19, "kind": "error", "text": "EOFError"},
        ])

    def test_exit_ends_the_run(self):
        events = self.run_notebook([("code", "print('a')"), ("code", "exit()"),
                                    ("code", "print('b')")])
        self.assertEqual(events, [{"cell": 1, "kind": "stdout", "text": "a\n"}])

    def test_unreadable_notebook(self):
        with tempfile.NamedTemporaryFile("w", suffix=".ipynb") as f:
            f.write("not json")
            f.flush()
            proc = subprocess.run([sys.executable, os.path.join(HERE, "run_notebook.py"), f.name],
                                  capture_output=True, check=False, timeout=60)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stdout, b"")


class AstSyntaxTest(unittest.TestCase):
    def test_cells(self):
        cases = {
            "x = 1\n": False,
            "def f(:\n    pass\n": True,
            "%matplotlib inline\n!pip install x\nlen?\nfiles = !ls\n": False,
            "print 'python 2'\n": True,
            "pip install x\n": True,  # automagic is not applied
            "await something()\n": False,  # only the compiler rejects this
            "\n\n%%time\nx = (\n": True,
            "%%timeit -n 1\n%time y = 1\n": False,
            "%%capture out\nprint(1\n": True,
            "%%writefile x.py\ndef (\n": False,
            "%%file x.py\ndef (\n": False,
            "%%bash\nfor ((i=0;;)) do\n": False,
            "%%html\n<b>\n": False,
            "": False,
        }
        for source, expected in cases.items():
            with self.subTest(source=source):
                self.assertEqual(ast_syntax.cell_syntax_error(source) is not None, expected)

    def test_notebooks(self):
        with tempfile.TemporaryDirectory() as folder:
            good = os.path.join(folder, "good.ipynb")
            write_notebook(good, [("markdown", "# x"), ("code", "x = ("), ("raw", "y = ("),
                                  ("code", "ok = 1"), ("code", "also bad(")])
            text_sources = os.path.join(folder, "text_sources.ipynb")
            write_notebook(text_sources, [("code", "fine = 1"), ("code", "bad(")],
                           as_lists=False)
            r_kernel = os.path.join(folder, "r.ipynb")
            write_notebook(r_kernel, [("code", "x <- 1")], language="R")
            not_json = os.path.join(folder, "not_json.ipynb")
            with open(not_json, "w") as f:
                f.write("{")
            v3 = os.path.join(folder, "v3.ipynb")
            with open(v3, "w") as f:
                json.dump({"nbformat": 3, "worksheets": []}, f)
            result = ast_syntax.check_notebooks([good, text_sources, r_kernel, not_json, v3])
        self.assertEqual(result[good], [2, 5])
        self.assertEqual(result[text_sources], [2])
        skipped = result[ast_syntax.SKIPPED_KEY]
        self.assertEqual(sorted(skipped), sorted([r_kernel, not_json, v3]))
        self.assertIn("language: r", skipped[r_kernel])
        self.assertIn("not JSON", skipped[not_json])
        self.assertIn("nbformat 4", skipped[v3])


class CorpusCheckTest(unittest.TestCase):
    def record(self, path, **changes):
        record = {"path": path, "status": "ok", "message": None, "definitions": [
            {"name": "f", "kind": "function", "cell": 1, "line": 1, "verdict": "move",
             "reason": None, "needs": []}],
            "syntax_errors": [{"cell": 2, "line": 1, "column": 5, "message": "bad"}]}
        record.update(changes)
        return record

    def test_chunks(self):
        paths = [f"p{i}" for i in range(10)]
        self.assertEqual(corpus_check.chunks(paths, max_bytes=9, max_count=100),
                         [paths[0:3], paths[3:6], paths[6:9], paths[9:]])
        self.assertEqual(corpus_check.chunks(paths, max_bytes=1000, max_count=4),
                         [paths[0:4], paths[4:8], paths[8:]])

    def test_shape(self):
        self.assertEqual(corpus_check.shape_problems(self.record("a")), [])
        bad = self.record("a", status="fine", definitions=[{"name": "f", "kind": "lambda"}])
        problems = corpus_check.shape_problems(bad)
        self.assertTrue(any('"status"' in p for p in problems), problems)
        self.assertTrue(any("definitions[0].kind" in p for p in problems), problems)
        self.assertTrue(any("definitions[0].needs" in p for p in problems), problems)

    def test_check(self):
        with tempfile.TemporaryDirectory() as folder:
            agree = os.path.join(folder, "agree.ipynb")
            write_notebook(agree, [("code", "def f():\n    pass"), ("code", "x = (")])
            disagree = os.path.join(folder, "disagree.ipynb")
            write_notebook(disagree, [("code", "def f():\n    pass"), ("code", "x = 1")])
            r_kernel = os.path.join(folder, "r.ipynb")
            write_notebook(r_kernel, [("code", "x <- 1")], language="R")
            missing = os.path.join(folder, "missing.ipynb")
            write_notebook(missing, [("code", "x = 1")])
            paths = [agree, disagree, r_kernel, missing]
            records = [self.record(agree), self.record(disagree),
                       self.record(r_kernel, status="skipped", message="",
                                   definitions=[], syntax_errors=[])]
            report = corpus_check.Report()
            counts = corpus_check.check(paths, records, report)
        self.assertEqual(counts["syntax-error cells agreeing"], 1)
        self.assertEqual(counts["syntax-error cells disagreeing"], 1)
        self.assertEqual(counts["definitions move"], 2)
        self.assertEqual(counts["code cells"], 4)
        text = "\n".join(report.violations)
        self.assertEqual(len(report.violations), 3, text)
        self.assertIn(f"{disagree}: cell 2: nbhoist reports a syntax error", text)
        self.assertIn(f"{r_kernel}: status 'skipped' without a message", text)
        self.assertIn(f"{missing}: missing", text)
        self.assertIsInstance(counts, Counter)


if __name__ == "__main__":
    unittest.main()
