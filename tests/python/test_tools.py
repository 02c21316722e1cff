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
            "await something()\n": False,
            "return 1\n": False,  # only the compiler rejects this (see AstSyntaxCompileTest)
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


class AstSyntaxCompileTest(unittest.TestCase):
    def test_cell_compile_error(self):
        cases = {
            "x = 1\n": None,
            "x = 1\nreturn x\nyield x\n": 1,  # the first statement that fails
            "def f(a, a):\n    pass\n": 0,
            "f(a=1, a=2)\n": 0,
            "for x in y:\n    pass\nelse:\n    break\n": 0,
            "def f():\n    nonlocal x\n": 0,
            "def f():\n    def g():\n        nonlocal x\n    x = 1\n": None,
            # Top-level await is allowed, but not in a function that is not async.
            "import asyncio\nawait asyncio.sleep(0)\n[x async for x in y]\n": None,
            "async with x:\n    pass\nasync for y in x:\n    pass\n": None,
            "x = 1\ndef f():\n    await g()\n": 1,
            "class C:\n    await x\n": 0,
            # Each statement compiles alone, so a late `__future__` import is fine...
            "x = 1\nfrom __future__ import annotations\n": None,
            "if x:\n    from __future__ import annotations\n": 0,
            # ... and the features of the statements before stay on.
            "from __future__ import annotations\ndef f(x: (y := 1)): pass\n": 1,
            "x = 1\nglobal x\n": None,
            "for i in y:\n    x = i\n    global x\n": 0,
            # The last expression statement compiles in "single" mode.
            "x = 1\nyield x\n": 1,
            "%matplotlib inline\nreturn 1\n": 1,
            # Not compiled: cells that do not parse, and cells that are not Python.
            "def f(:\n    return\n": None,
            "%%bash\nreturn 1\n": None,
            "%%writefile x.py\nreturn 1\n": None,
            # %%capture runs its body as a cell; the magic line is statement 0.
            "%%capture out\nx = 1\nreturn x\n": 2,
            "%%capture out\nawait x\n": None,
            # %%time and %%timeit compile their body whole, without top-level await.
            "%%time\nx = 1\nawait x\n": 0,
            "%%time\nx = 1\nx\n": None,
            "%%time\nx = 1\nglobal x\n": 0,
            "%%timeit -n 1\nx = 1\n": None,
            "%%timeit -n 1\nfrom os import *\n": 0,  # inside timeit's function
            "%%timeit\nfrom __future__ import annotations\n": 0,
            "%%timeit\nbreak\n": 0,
        }
        for source, expected in cases.items():
            with self.subTest(source=source):
                failed = ast_syntax.cell_compile_error(source)
                self.assertEqual(None if failed is None else failed.statement, expected,
                                 failed)
                if expected is not None:
                    self.assertIsNone(ast_syntax.cell_syntax_error(source))  # it parses
                    self.assertIn(f"statement {expected} does not compile",
                                  ast_syntax.cell_syntax_error(source, compile=True))

    def test_compile_reason(self):
        failed = ast_syntax.cell_compile_error("x = 1\nreturn x\n")
        self.assertEqual(failed.reason, "SyntaxError: 'return' outside function (line 2)")
        failed = ast_syntax.cell_compile_error("%%time\nawait x\n")
        self.assertIn("in the %%time body: SyntaxError: 'await' outside function",
                      failed.reason)

    def test_notebooks(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "nb.ipynb")
            write_notebook(path, [("code", "x = ("), ("code", "return 1"), ("code", "await x"),
                                  ("markdown", "return"), ("code", "break")])
            self.assertEqual(ast_syntax.check_notebooks([path])[path], [1])
            self.assertEqual(ast_syntax.check_notebooks([path], compile=True)[path], [1, 2, 5])
            reasons = ast_syntax.check_notebook(path, compile=True)["syntax_errors"]
            self.assertIn("statement 0 does not compile", reasons[2])
            for args, expected in (([path], [1]), (["--compile", path], [1, 2, 5])):
                proc = subprocess.run([sys.executable, os.path.join(HERE, "ast_syntax.py"),
                                       *args], capture_output=True, check=True, timeout=120)
                self.assertEqual(json.loads(proc.stdout)[path], expected)


class CorpusCheckTest(unittest.TestCase):
    def record(self, path, **changes):
        record = {"path": path, "status": "ok", "message": None, "definitions": [
            {"name": "f", "kind": "function", "cell": 1, "line": 1, "verdict": "move",
             "reason": None, "hint": None, "code": None, "needs": [], "undefined_in_annotations": []}],
            "syntax_errors": [{"cell": 2, "line": 1, "column": 5, "message": "bad"}],
            "dropped_imports": [{"cell": 1, "import": "import os, sys", "names": ["os"],
                                 "reason": "nothing left in the notebook uses `os`; the module "
                                           "imports it", "code": "unused-names"}]}
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


FAKE_NBHOIST = r"""
import json, os, sys

# A stand-in for `nbhoist extract --package hoisted PATH...`: hoists `f` out of notebooks
# whose first cell defines it, writing a module with an unused import and the cell's code,
# and dropping the outputs of the second cell; it does it again on every run.
paths = sys.argv[4:]
wrote = []
for path in paths:
    with open(path) as f:
        nb = json.load(f)
    if " f" not in "".join(nb["cells"][0]["source"]):
        print(f"{path}: nothing to hoist")
        continue
    package = os.path.join(os.path.dirname(path), "hoisted")
    os.makedirs(package, exist_ok=True)
    module = os.path.join(package, "m.py")
    with open(module, "a") as f:
        f.write("import os\n\n\n" + "".join(nb["cells"][0]["source"]) + "\n")
    nb["cells"][0]["source"] = "from hoisted.m import f"
    nb["cells"][1]["outputs"] = []
    with open(path, "w") as f:
        json.dump(nb, f)
    print(f"{path} → {module}")
    print("  move  f  cell 1  function")
    wrote.append(path)
print(f"Wrote {', '.join(wrote)}." if wrote else "Nothing to change.")
"""

EXTRACT_OUTPUT = """\
/c/a.ipynb → /c/hoisted/a.py
  move  helper       cell 2   function
  move  LIMIT        cell 1   constant
  move  my tools.py  cell 12  %%writefile module
  stay  plot         cell 10  reads notebook variable `df` (cell 3): pass it as a parameter
  stay  data.csv     cell 13  %%writefile: writes a file that is not a Python module
  stay  f(x)         cell 11
  drop  import os, sys  cell 1  nothing left in the notebook uses `os`; the module imports it
  drop  import json  cell 4  nothing left in the notebook uses it; the module imports it
/c/b: c.ipynb: nothing to hoist
  stay  g  cell 4  `g` is also assigned in cell 5:   move  h  cell 6  function
/c/d.ipynb: not valid JSON (line 1, column 1): expected value
  and a second line
note: `helper` is defined in modules a and e of /c/hoisted; it is not re-exported
Wrote /c/hoisted/a.py, /c/hoisted/__init__.py, /c/a.ipynb.
"""


class ExtractCheckTest(unittest.TestCase):
    def test_parse_extract_output(self):
        paths = ["/c/a.ipynb", "/c/b: c.ipynb", "/c/b", "/c/d.ipynb"]
        out = corpus_check.parse_extract_output(EXTRACT_OUTPUT, paths)
        self.assertEqual(out.problems, ["unexpected line 7: '  stay  f(x)         cell 11'",
                                        "/c/b is not reported"])
        a = out.notebooks["/c/a.ipynb"]
        self.assertEqual((a.status, a.module), ("module", "/c/hoisted/a.py"))
        self.assertEqual([(r.verdict, r.name, r.cell, r.what) for r in a.rows], [
            ("move", "helper", 2, "function"), ("move", "LIMIT", 1, "constant"),
            ("move", "my tools.py", 12, "%%writefile module"),
            ("stay", "plot", 10, "reads notebook variable `df` (cell 3): pass it as a parameter"),
            ("stay", "data.csv", 13, "%%writefile: writes a file that is not a Python module")])
        self.assertEqual([r.writefile for r in a.rows], [False, False, True, False, True])
        self.assertEqual(a.dropped, [
            ("import os, sys", 1, "nothing left in the notebook uses `os`; the module imports it"),
            ("import json", 4, "nothing left in the notebook uses it; the module imports it")])
        b = out.notebooks["/c/b: c.ipynb"]
        self.assertEqual(b.status, "nothing")
        self.assertEqual([(r.name, r.cell, r.what) for r in b.rows],
                         [("g", 4, "`g` is also assigned in cell 5:   move  h  cell 6  function")])
        d = out.notebooks["/c/d.ipynb"]
        self.assertEqual((d.status, d.message, d.rows),
                         ("error", "not valid JSON (line 1, column 1): expected value\n"
                                   "  and a second line", []))
        self.assertEqual(out.notes, ["`helper` is defined in modules a and e of /c/hoisted; it "
                                     "is not re-exported"])
        self.assertEqual(out.last_line, "Wrote /c/hoisted/a.py, /c/hoisted/__init__.py, "
                                        "/c/a.ipynb.")

    def test_parse_extract_output_problems(self):
        text = ("/c/a.ipynb: nothing to hoist\n  move  f  cell 1  lambda\n/c/a.ipynb → /c/m.py\n"
                "Nothing to change.\nextra\n")
        out = corpus_check.parse_extract_output(text, ["/c/a.ipynb"])
        self.assertEqual(out.problems, [
            "line 2: unknown kind 'lambda': '  move  f  cell 1  lambda'",
            "/c/a.ipynb is reported more than once",
            "unexpected line 4: 'Nothing to change.'",
            "unexpected line 5: 'extra'",
            "does not end with `Wrote ...` or 'Nothing to change.'"])
        self.assertEqual(corpus_check.parse_extract_output("Nothing to change.\n", []).last_line,
                         "Nothing to change.")
        totals = "1 notebook: 0 changed, 0 failed; 0 definitions hoisted, 0 kept"
        out = corpus_check.parse_extract_output(
            f"/c/a.ipynb: nothing to hoist\nNothing to change.\n{totals}\n", ["/c/a.ipynb"])
        self.assertEqual((out.problems, out.last_line, out.totals),
                         ([], "Nothing to change.", totals))
        out = corpus_check.parse_extract_output(f"{totals}\nNothing to change.\n", [])
        self.assertEqual(out.problems, [f"unexpected line 1: {totals!r}"])

    def test_normalise(self):
        normalise = corpus_check.normalise_reason
        self.assertEqual(normalise("reads notebook variable `df2` (cell 13): pass it"),
                         "reads notebook variable X (cell N): pass it")
        self.assertEqual(normalise("`f` is defined in cells 3, 5 and 12 with different code"),
                         "X is defined in cells N with different code")
        self.assertEqual(corpus_check.normalise_message(
            "/tmp/w/x/hoisted/a.py already exists; kernel language is C++14, not Python",
            "/tmp/w"), "PATH already exists; kernel language is L, not Python")

    def test_lost_cell_fields(self):
        def cell(cell_id, **fields):
            return {"id": cell_id, "cell_type": "code", "source": "", "metadata": {},
                    "execution_count": 1, "outputs": [], **fields}
        before = {"cells": [cell("a"), cell("b", outputs=[{"output_type": "stream"}]),
                            cell("dup"), cell("dup"), cell("gone"), {"cell_type": "raw"},
                            cell("c", attachments={"x.png": {}})]}
        after = {"cells": [cell("new"), cell("a", source="changed"), cell("b"), cell("dup"),
                           cell("c", execution_count=2)]}
        self.assertEqual(corpus_check.lost_cell_fields(before, after), [
            "cell 2 (id 'b', now cell 3): outputs changed from [{\"output_type\": \"stream\"}] "
            "to []",
            "cell 7 (id 'c', now cell 5): execution_count changed from 1 to 2",
            "cell 7 (id 'c', now cell 5): attachments changed from {\"x.png\": {}} to missing"])
        self.assertEqual(corpus_check.kept_cells(before, after), 3)
        self.assertEqual(corpus_check.lost_cell_fields({"worksheets": []}, after), [])

    def test_unused_imports(self):
        def nb(*sources):
            return {"cells": [{"cell_type": "code", "source": source} for source in sources]
                    + [{"cell_type": "markdown", "source": "import x"}]}
        before = nb("import os, json\nfrom m import (a,\n b)", "%time os.sep", "print(json, a)")
        after = nb("import os, json\nfrom m import (a,\n b)", "def (", "print(a)")
        self.assertEqual(corpus_check.unused_imports(before), Counter({"m.b": 1, "os": 1}))
        self.assertEqual(corpus_check.unused_imports(after) - corpus_check.unused_imports(before),
                         Counter({"json": 1}))

    def test_module_problems(self):
        source = (b"import os\nimport sys\n\n\ndef f():\n    import json\n"
                  b"    return sys.argv, undefined_thing\n")
        problems, others = corpus_check.module_problems(source, "m.py")
        self.assertEqual(problems, ["line 1: 'os' imported but unused\n      import os",
                                    "line 7: undefined name 'undefined_thing'\n"
                                    "      return sys.argv, undefined_thing"])
        self.assertEqual(others["UnusedImport inside a definition"], 1)
        problems, others = corpus_check.module_problems(b"from x import *\n\ny = z\n", "m.py")
        self.assertEqual(problems, [])
        self.assertEqual(others, Counter(ImportStarUsed=1, ImportStarUsage=1))
        problems, _ = corpus_check.module_problems(b"def f():\n    await g()\n", "m.py")
        self.assertEqual(len(problems), 1)
        self.assertIn("does not compile: SyntaxError: 'await' outside", problems[0])
        problems, _ = corpus_check.module_problems(
            b"from .a import f\n\n__all__ = ['f', 'g']\n", "m.py")
        self.assertEqual(problems, ["line 3: undefined name 'g' in __all__\n"
                                    "      __all__ = ['f', 'g']"])
        # Postponed annotations are never evaluated: what nothing defines stays as written.
        source = (b"from __future__ import annotations\n\n\n"
                  b"def f(rows: Iterable[Row]) -> Out:\n    return Missing\n")
        problems, others = corpus_check.module_problems(source, "m.py")
        self.assertEqual(problems, ["line 5: undefined name 'Missing'\n      return Missing"])
        self.assertEqual(others["UndefinedName in a postponed annotation"], 3)
        problems, _ = corpus_check.module_problems(source.split(b"\n", 1)[1], "m.py")
        self.assertEqual(len(problems), 4)

    def test_written_lines(self):
        module = ('"""Code hoisted from\nnb.ipynb\nby nbhoist.\n"""\n\nimport os\n'
                  "from math import (\n    pi,\n    tau,\n)\n\n"
                  "# Nbhoist's comment on the guards.\ntry:\n    import a\nexcept ImportError:\n"
                  "    pass\ntry:\n    import b\nexcept ImportError:\n    pass\n"
                  "try: import c\nexcept ImportError: import d\n\n"
                  "# The user's comment.\nK = os.sep\n\n\ndef f():\n    import e\n")
        self.assertEqual(sorted(corpus_check.written_lines(module)),
                         [*range(1, 5), *range(6, 11), *range(12, 21)])
        self.assertEqual(corpus_check.written_lines("x = (\n"), {1, 2})

    def test_ruff_verdict(self):
        theirs = {("E501", "    return 1  # long"), ("E701", "if x: y")}
        verdict = corpus_check.ruff_verdict
        # Trailing whitespace does not count: nbhoist drops it at the end of a block.
        self.assertEqual(verdict("E501", "    return 1  # long  ", True, theirs), "user")
        self.assertEqual(verdict("E501", "return 1  # long", True, theirs), "nbhoist")
        self.assertEqual(verdict("E701", "    return 1  # long", True, theirs), "nbhoist")
        self.assertEqual(verdict("E701", "if x: y", False, theirs), "nbhoist")
        self.assertEqual(verdict(None, None, True, theirs), "nbhoist")
        # A star import in a module is one nbhoist wrote: it writes none.
        self.assertEqual(verdict("F403", "from m import *", False, theirs), "nbhoist")

    def test_reported_pairs(self):
        notebook = json.dumps({"cells": [
            {"cell_type": "markdown", "source": "# Title"},
            {"cell_type": "code", "source": ["import os\r\n", "x = 1  \r\n", "y = 2"]},
            {"cell_type": "code", "source": "z = 3"}]}).encode()
        texts = corpus_check.cell_sources(notebook)
        self.assertEqual(texts, ["# Title", "import os\r\nx = 1  \r\ny = 2", "z = 3"])
        diagnostics = [{"code": "E501", "cell": 2, "location": {"row": 2, "column": 89}},
                       {"code": "F401", "cell": 3, "location": {"row": 1, "column": 1}},
                       {"code": None, "cell": 2, "location": {"row": 3, "column": 1}},
                       {"code": "E701", "cell": 9, "location": {"row": 1, "column": 1}}]
        self.assertEqual(corpus_check.reported_pairs(diagnostics, texts),
                         {("E501", "x = 1"), ("F401", "z = 3")})
        self.assertEqual(corpus_check.reported_pairs(
            [{"code": "E741", "cell": None, "location": {"row": 2, "column": 1}}],
            ["a = 1\nl = 2\n"]), {("E741", "l = 2")})

    def test_ruff_notebook(self):
        with_language = json.dumps({"cells": [],
                                    "metadata": {"language_info": {"name": "python"}}}).encode()
        self.assertEqual(corpus_check.ruff_notebook(with_language), with_language)
        without = json.dumps({"cells": [], "metadata": {"kernelspec": {"name": "python3"}}})
        self.assertEqual(json.loads(corpus_check.ruff_notebook(without.encode())),
                         {"cells": [], "metadata": {"kernelspec": {"name": "python3"},
                                                    "language_info": {"name": "python"}}})
        self.assertEqual(corpus_check.ruff_notebook(b"not json"), b"not json")

    def test_scan_disagreements(self):
        def d(name, cell, verdict, reason=None, hint=None):
            return {"name": name, "kind": "function", "cell": cell, "line": 1,
                    "verdict": verdict, "reason": reason, "hint": hint,
                    "code": "code" if reason else None, "needs": [], "undefined_in_annotations": []}

        def row(verdict, name, cell, what="function"):
            return corpus_check.Row(verdict, name, cell, what)

        def w(target, cell, verdict, reason=None):
            return {"cell": cell, "target": target, "append": False, "verdict": verdict,
                    "reason": reason, "module": None}

        record = {"path": "p", "status": "ok", "message": None, "syntax_errors": [],
                  "definitions": [d("same", 1, "move"), d("same", 4, "move"),
                                  d("late", 2, "move"), d("kept", 3, "stay", "reads", "`x`"),
                                  d("moved", 5, "stay", "reads `y`"), d("lost", 6, "move")],
                  "writefiles": [w("a.py", 8, "move"), w("b.txt", 9, "stay", "not Python"),
                                 w("c.py", 10, "move")]}
        outcome = corpus_check.Outcome("module", rows=[
            row("move", "same", 1), row("move", "LIMIT", 1, "constant"),
            row("move", "a.py", 8, "%%writefile module"),
            row("move", "b.txt", 9, "%%writefile module"),
            row("stay", "c.py", 10, "%%writefile: comes before cell 2, which installs ..."),
            row("stay", "late", 2, "comes before cell 3, which installs ..."),
            row("stay", "kept", 3, "reads: `x`"), row("move", "moved", 5),
            row("stay", "extra", 7, "?")])
        # Scan decides where the import cell goes too: extract keeps what scan keeps.
        self.assertEqual(corpus_check.scan_disagreements(record, outcome), [
            "cell 2: extract keeps `late` (comes before cell 3, which installs ...), which "
            "scan moves",
            "cell 5: extract moves `moved` or leaves it out, but scan keeps it (reads `y`)",
            "cell 6: `lost`: scan lists 1, extract 0, and extract moves no `lost`",
            "cell 7: `extra`: scan lists 0, extract 1",
            "cell 9: extract moves %%writefile `b.txt` or leaves it out, but scan keeps it "
            "(not Python)",
            "cell 10: extract keeps %%writefile `c.py` (%%writefile: comes before cell 2, which "
            "installs ...), which scan moves"])
        outcome.rows[6] = row("stay", "kept", 3, "reads `w`")
        self.assertIn("cell 3: extract keeps `kept` (reads `w`), scan for another reason "
                      "(reads: `x`)", corpus_check.scan_disagreements(record, outcome))
        outcome.rows[5] = row("stay", "late", 2, "reads `z`")
        self.assertIn("cell 2: extract keeps `late` (reads `z`), which scan moves",
                      corpus_check.scan_disagreements(record, outcome))
        # The same imports go.
        drop = ("import os, sys", 1, "nothing left in the notebook uses `os`; ...")
        record["dropped_imports"] = [{"cell": 1, "import": drop[0], "names": ["os"],
                                      "reason": drop[2], "code": "unused-names"}]
        self.assertIn(f"scan drops [{drop!r}], extract drops []",
                      corpus_check.scan_disagreements(record, outcome))
        outcome.dropped.append(drop)
        self.assertFalse(any("drops" in problem
                             for problem in corpus_check.scan_disagreements(record, outcome)))
        error = corpus_check.Outcome("error", message="bad")
        self.assertEqual(corpus_check.scan_disagreements(record, error), [])
        skipped = dict(record, status="skipped", message="R")
        self.assertEqual(corpus_check.scan_disagreements(skipped, error), [])
        self.assertEqual(corpus_check.scan_disagreements(skipped, outcome),
                         ["scan says skipped (R), but extract plans it"])

    def test_snapshot_changes(self):
        before = {"a": b"1", "b": b"2", "c": b"3"}
        after = {"a": b"1", "b": b"changed", "d": b"4"}
        self.assertEqual(corpus_check.snapshot_changes(before, after),
                         ["changed b", "removed c", "added d"])

    def test_nbformat_problem(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "nb.ipynb")
            write_notebook(path, [("code", "x = 1")])
            with open(path, "rb") as f:
                data = f.read()
        self.assertIsNone(corpus_check.nbformat_problem(data))
        nb = json.loads(data)
        del nb["cells"][0]["outputs"]
        problem = corpus_check.nbformat_problem(json.dumps(nb).encode())
        self.assertIn("'outputs' is a required property", problem)
        self.assertIn("does not appear to be JSON", corpus_check.nbformat_problem(b"{"))

    def test_check_extract(self):
        with tempfile.TemporaryDirectory() as folder:
            binary = os.path.join(folder, "nbhoist")
            with open(binary, "w") as f:
                f.write(f"#!{sys.executable}\n{FAKE_NBHOIST}")
            os.chmod(binary, 0o755)
            corpus = os.path.join(folder, "corpus")
            os.makedirs(os.path.join(corpus, "sub"))
            hoists = os.path.join(corpus, "sub", "hoists.ipynb")
            # A line ruff finds too long, in the notebook and in the module.
            write_notebook(hoists, [("code", f"def f():\n    return {'1' * 90!r}"),
                                    ("code", "f()")])
            with open(hoists) as f:
                nb = json.load(f)
            for i, cell in enumerate(nb["cells"]):
                cell["id"] = f"id{i}"
            nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout",
                                          "text": "x"}]
            with open(hoists, "w") as f:
                json.dump(nb, f)
            stays = os.path.join(corpus, "stays.ipynb")
            write_notebook(stays, [("code", "x = 1")])
            paths = corpus_check.find_notebooks(corpus)
            before = corpus_check.snapshot(corpus)
            report = corpus_check.Report()
            summary = corpus_check.check_extract(binary, corpus, paths, None, report,
                                                 max_bytes=100_000, max_count=1, timeout=60)
            self.assertEqual(corpus_check.snapshot(corpus), before)  # the corpus is not written
        hoisted_module = os.path.join(corpus, "sub", "hoisted", "m.py")
        self.assertEqual(summary.counts["given"], 2)
        self.assertEqual(summary.counts["changed"], 1)
        self.assertEqual(summary.counts["modules"], 1)
        self.assertEqual(summary.counts["moved function"], 1)
        self.assertEqual(summary.counts["second-run invocations"], 2)
        self.assertEqual(summary.counts["ruff files"], 1)
        self.assertEqual(summary.ruff_user, Counter(E501=1))
        self.assertEqual(summary.ruff_nbhoist, Counter(F401=1))
        self.assertEqual(report.violations, [
            f"{hoisted_module} (from {hoists}): line 1: 'os' imported but unused\n"
            "      import os",
            f"{hoisted_module} (from {hoists}): line 1: ruff F401: `os` imported but unused\n"
            "      import os",
            f"{hoists}: cell 2 (id 'id1', now cell 2): outputs changed from "
            '[{"output_type": "stream", "name": "stdout", "text": "x"}] to []',
            f"{hoists}: a second extract hoists again: f",
            f"the second extract changed {hoisted_module}"])


if __name__ == "__main__":
    unittest.main()


class ImportStubbedTest(unittest.TestCase):
    SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "import_stubbed.py")

    def run_imports(self, files: dict[str, str], modules: list[str]) -> dict:
        with tempfile.TemporaryDirectory() as folder:
            for name, text in files.items():
                path = os.path.join(folder, name)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
            proc = subprocess.run([sys.executable, self.SCRIPT, folder, *modules],
                                  capture_output=True, text=True, timeout=60, check=True)
            return json.loads(proc.stdout)

    def test_modules_that_are_not_installed_are_stubbed(self):
        module = (
            "import json\n"
            "import not_installed_xyz as np\n"
            "from fancy_not_installed import *\n"
            "X = np.pi * 2\n"
            "class Net(np.nn.Module):\n    pass\n"
            "@np.jit\ndef f(x):\n    return x\n"
            "@np.register(Net)\ndef g(x):\n    return x\n"
            "while X < 10:\n    X = X + 1\n"
            "print(Thing, json.dumps(f(1)))\n"
        )
        broken = "import json\nraise ValueError('boom')\n"
        results = self.run_imports(
            {"pkg/__init__.py": "", "pkg/good.py": module, "pkg/bad.py": broken},
            ["pkg.good", "pkg.bad"])
        self.assertIsNone(results["pkg.good"])
        self.assertEqual(results["pkg.bad"], "ValueError: boom")

    def test_a_missing_name_of_an_installed_module_is_not_stubbed(self):
        results = self.run_imports({"pkg/__init__.py": "", "pkg/m.py": "from math import prodtw\n"},
                                   ["pkg.m"])
        self.assertTrue(results["pkg.m"].startswith("ImportError"), results)
