"""Tests of the re-run mode of the behaviour fuzzer (tests/python/fuzz_rerun.py).

The tests of the changes, of the checks and of the replay of saved cases are fast and always
run (the replay against a stand-in for nbhoist). With NBHOIST_BINARY set to an nbhoist
binary, a short run in re-run mode checks that changed notebooks get extracted again, a
bounded re-run (NBHOIST_FUZZ_RERUN notebooks of a fixed seed, 300 by default) must all pass,
and so must the replay of tests/fixtures/fuzz-found-rerun/.

    NBHOIST_BINARY=target/release/nbhoist NBHOIST_FUZZ_RERUN=1000 \\
        target/test-venv/bin/python -m unittest discover -s tests/python -p test_fuzz_rerun.py
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import unittest

import fuzz_behaviour as fb
import fuzz_rerun as fr
from test_fuzz_behaviour import binary_or_skip, replay_failures

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SEED = 20240601
FOUND = os.path.join(REPO, "tests", "fixtures", "fuzz-found-rerun")

MODULE = (
    '"""Code hoisted from nb.ipynb by nbhoist."""\n\nimport math\n\nRATE = 0.05\n\n\n'
    "@deco\ndef f(x):\n    \"\"\"Doc.\"\"\"\n    return round(x * RATE, 4)\n\n\n"
    "class Point:\n    def __init__(self, x):\n        self.x = x\n\n"
    "    def value(self):\n        return self.x * 2\n"
)


def cell(source: str, cell_id: str) -> dict:
    return fr.new_cell(source, cell_id)


def folder(cells: list[dict], module: str = MODULE, manifest: dict | None = None
           ) -> dict[str, bytes]:
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    files = {fb.NOTEBOOK: json.dumps(nb).encode(), "hoisted/nb.py": module.encode(),
             "hoisted/__init__.py": b""}
    if manifest is not None:
        files["hoisted/.nbhoist.json"] = json.dumps(
            {"version": 1, "modules": {"nb.py": {"notebook": "nb.ipynb",
                                                 "definitions": manifest}}}).encode()
    return files


def extracted() -> dict[str, bytes]:
    return folder([cell("import os", "c0"), cell("from hoisted.nb import Point, RATE, f", "i"),
                   cell("x = 3\nprint(f(2))", "c2")])


def sources(files: dict[str, bytes]) -> list[tuple[str, str]]:
    nb = json.loads(files[fb.NOTEBOOK])
    return [(c["id"], fr.source_of(c)) for c in nb["cells"]]


class ChangeTest(unittest.TestCase):
    def test_what_phase_1_left_is_read(self):
        ext = fr.read_extracted(extracted())
        self.assertEqual(ext.import_at, 1)
        self.assertEqual(ext.module_path, "hoisted/nb.py")
        self.assertEqual(list(ext.functions), ["f"])
        self.assertTrue(ext.functions["f"].startswith("@deco\ndef f(x):"))
        self.assertEqual(list(ext.classes), ["Point"])
        self.assertEqual(ext.constants, {"RATE": "RATE = 0.05"})
        self.assertEqual(ext.module_imports, ["math"])
        self.assertEqual(ext.variables, ["x"])
        self.assertEqual(ext.uses("f"), [2])

    def test_same_seed_same_change(self):
        files = extracted()
        for i in range(40):
            self.assertEqual(fr.draw_change(3, i, files), fr.draw_change(3, i, files))
        self.assertGreater(len({json.dumps(fr.draw_change(3, i, files)) for i in range(40)}), 30)

    def test_every_kind_of_change_is_drawn_and_applies(self):
        files = extracted()
        kinds = set()
        for i in range(300):
            change = fr.draw_change(SEED, i, files)
            kinds.update(change["kinds"])
            changed = fr.apply_change(change, files, json.loads(files[fb.NOTEBOOK]))
            for rel, data in changed.items():
                if rel.endswith(".py"):
                    compile(data, rel, "exec", dont_inherit=True)
            restores = [op["op"] == "restore" for op in change["ops"]]
            self.assertEqual(restores, sorted(restores, reverse=True))  # they come first
        self.assertEqual(kinds, {"new_definition", "restore", "new_version", "same_copy",
                                 "module_edit", "module_user", "module_delete", "future",
                                 "decorator", "subclass", "rebind_import", "indirect_use",
                                 "needs_new"})

    def test_new_versions_differ_and_copies_do_not(self):
        ext = fr.read_extracted(extracted())
        gen = fr.ChangeGen(fr.random.Random(1), ext)
        for _ in range(30):
            for name in ext.hoisted:
                text = {**ext.functions, **ext.classes, **ext.constants}[name]
                self.assertNotEqual(gen.new_version(name), text)
                self.assertEqual(fr.statement_spans(gen.new_version(name))[0][0][:1], [name])
        gen.op_same_copy()
        pasted = gen.ops[-1]["cells"][0]
        self.assertIn(pasted, [*ext.functions.values(), *ext.classes.values(),
                               *ext.constants.values()])

    def test_insertions_follow_their_anchors(self):
        files = extracted()
        change = {"ops": [
            {"op": "insert", "where": {"before": "import"}, "cells": ["a = 1"]},
            {"op": "insert", "where": {"after": "import"}, "cells": ["b = 2", "b"]},
            {"op": "insert", "where": {"into": "c2", "at": "top"}, "cells": ["c = 3"]},
            {"op": "insert", "where": {"after": "gone"}, "cells": ["d = 4"]},
            {"op": "insert", "where": {"at": "start"}, "cells": ["e = 5"]},
        ], "force": False}
        self.assertEqual(sources(fr.apply_change(change, files, None)), [
            ("b4_0", "e = 5"), ("c0", "import os"), ("b0_0", "a = 1"),
            ("i", "from hoisted.nb import Point, RATE, f"), ("b1_0", "b = 2"), ("b1_1", "b"),
            ("c2", "c = 3\n\nx = 3\nprint(f(2))"), ("b3_0", "d = 4")])

    def test_restore_brings_back_the_notebook_given(self):
        original = {"cells": [cell("def f(x):\n    return x", "c0")], "metadata": {},
                    "nbformat": 4, "nbformat_minor": 5}
        change = {"ops": [{"op": "restore"},
                          {"op": "insert", "where": {"at": "end"}, "cells": ["f(1)"]}]}
        self.assertEqual(sources(fr.apply_change(change, extracted(), original)),
                         [("c0", "def f(x):\n    return x"), ("b1_0", "f(1)")])

    def test_module_edits(self):
        edit = fr.module_edit
        deleted = edit(MODULE, {"op": "module_delete", "name": "f"})
        self.assertNotIn("def f", deleted)
        self.assertNotIn("@deco", deleted)
        self.assertIn("RATE = 0.05\n\n\nclass Point:", deleted)
        self.assertEqual(edit(MODULE, {"op": "module_delete", "name": "nothing"}), MODULE)
        replaced = edit(MODULE, {"op": "module_replace", "name": "RATE", "text": "RATE = 1"})
        self.assertEqual(replaced, MODULE.replace("RATE = 0.05", "RATE = 1"))
        self.assertTrue(edit(MODULE, {"op": "module_append", "text": "def mine(x):\n    "
                                      "return f(x)"}).endswith("2\n\n\ndef mine(x):\n    "
                                                               "return f(x)\n"))
        future = edit(MODULE, {"op": "module_future"})
        self.assertTrue(future.startswith('"""Code hoisted from nb.ipynb by nbhoist."""\n\n'
                                          "from __future__ import annotations\n\nimport math"))
        self.assertEqual(edit(future, {"op": "module_future"}), future)

    def test_fingerprint_is_the_manifests(self):
        # FNV-1a 64 (src/ownership.rs), checked against its published test values.
        self.assertEqual(fr.fingerprint(""), "cbf29ce484222325")
        self.assertEqual(fr.fingerprint("a"), "af63dc4c8601ec8c")
        self.assertEqual(fr.fingerprint("foobar"), "85944171f73967e8")


class MergeCheckTest(unittest.TestCase):
    """merge_problem: what a run may not do to the module."""

    def setUp(self):
        owned = {name: {"fingerprint": fr.fingerprint(texts[-1])}
                 for name, texts in fr.statements(MODULE).items()}
        self.given = folder([cell("from hoisted.nb import f", "i")], manifest=owned)
        self.hand = folder([cell("from hoisted.nb import f", "i")],
                           MODULE.replace("x * RATE", "x * RATE * 2"), manifest=owned)

    def problem(self, given, module, conflicts=(), missing=(), updated=(), force=False,
                extra=None):
        written = dict(given, **{"hoisted/nb.py": module.encode()}, **(extra or {}))
        changed = fr.changed_paths(given, written)
        found = fr.merge_problem(given, written, list(conflicts), list(missing), set(updated),
                                 force, False, changed)
        return found[0] + "/" + found[-1] if found else None

    def test_an_update_of_what_nbhoist_wrote_passes(self):
        new = MODULE.replace("x * RATE", "x")
        self.assertIsNone(self.problem(self.given, new, updated=["f"]))
        self.assertIsNone(self.problem(self.given, MODULE + "\n\ndef g(x):\n    return x\n"))

    def test_an_unreported_change_is_a_lost_edit(self):
        new = MODULE.replace("x * RATE", "x")
        self.assertEqual(self.problem(self.given, new), "rerun-hand-edit-lost/statement")
        gone = fr.module_edit(MODULE, {"op": "module_delete", "name": "Point"})
        self.assertEqual(self.problem(self.given, gone), "rerun-hand-edit-lost/statement")
        self.assertEqual(self.problem(self.given, MODULE.replace("import math\n", "")),
                         "rerun-hand-edit-lost/import")

    def test_a_hand_edit_replaced_needs_force_and_a_backup(self):
        new = MODULE.replace("x * RATE", "x")
        self.assertEqual(self.problem(self.hand, new, updated=["f"]),
                         "rerun-hand-edit-lost/overwritten")
        self.assertEqual(self.problem(self.hand, new, updated=["f"], force=True),
                         "rerun-hand-edit-lost/backup")
        backup = {"hoisted/nb.py.bak": self.hand["hoisted/nb.py"]}
        self.assertIsNone(self.problem(self.hand, new, updated=["f"], force=True, extra=backup))

    def test_a_conflict_or_a_missing_name_is_not_written(self):
        new = MODULE.replace("x * RATE", "x")
        self.assertEqual(self.problem(self.hand, new, conflicts=["f"], updated=["f"]),
                         "rerun-conflict-wrote/conflict")
        hand = self.hand["hoisted/nb.py"].decode()
        self.assertIsNone(self.problem(self.hand, hand + "\n\nSTEP = 1\n", conflicts=["f"]))
        gone = fr.module_edit(MODULE, {"op": "module_delete", "name": "f"})
        imports_f = folder([cell("from hoisted.nb import f", "i")], gone)
        self.assertEqual(self.problem(imports_f, gone + "\n\ndef f(x):\n    return 1\n",
                                      missing=["f"]), "rerun-conflict-wrote/missing")


# A stand-in for nbhoist on a changed folder: the notebook's second cell asks for a
# misbehaviour. `--check` exits 1 when the run would change something, but in mode `check`.
FAKE_NBHOIST = r"""
import json, os, sys

with open("nb.ipynb") as f:
    nb = json.load(f)
mode = "".join(nb["cells"][1]["source"]).splitlines()[0].split("MODE=")[1]
check = "--check" in sys.argv
module = open("hoisted/nb.py").read()
if check:
    sys.exit(0 if mode in ("ok", "check") else 1)
if mode == "exit1":
    sys.exit(1)
if mode == "conflict":
    print("conflict: `f` in hoisted/nb.py (cell 1) differs from its copy in nb.ipynb")
    module = module.replace("x * 2", "x * 3")
if mode == "lost":
    module = module.split("def mine")[0]
if mode in ("idempotence", "check"):
    module += "# again\n"
if mode == "compile":
    module += "def (:\n"
if mode == "behaviour":
    nb["cells"] = [c for c in nb["cells"] if "print('kept')" not in "".join(c["source"])]
    with open("nb.ipynb", "w") as f:
        json.dump(nb, f)
with open("hoisted/nb.py", "w") as f:
    f.write(module)
sys.exit(1 if mode == "conflict" else 0)
"""

FAKE_MODES = {"ok": None, "exit1": "rerun-extract-failed", "conflict": "rerun-conflict-wrote",
              "lost": "rerun-hand-edit-lost", "idempotence": "rerun-not-idempotent",
              "check": "rerun-check-disagrees", "compile": "rerun-module-compile",
              "behaviour": "rerun-behaviour"}


class ReplayTest(unittest.TestCase):
    """Saved cases replayed against the stand-in: each kind of failure is seen, and saved."""

    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.TemporaryDirectory()
        root = cls.folder.name
        cls.fake = os.path.join(root, "nbhoist")
        with open(cls.fake, "w") as f:
            f.write(f"#!{sys.executable}\n{FAKE_NBHOIST}")
        os.chmod(cls.fake, 0o755)
        module = ('"""Code hoisted from nb.ipynb by nbhoist."""\n\n\ndef f(x):\n'
                  "    return x * 2\n\n\ndef mine(x):\n    return f(x)\n")
        cls.cases = []
        for mode in FAKE_MODES:
            files = folder([cell("from hoisted.nb import f", "i"),
                            cell(f"# MODE={mode}\nprint(f(2))", "c1"),
                            cell("print('kept')", "c2")], module)
            path = os.path.join(root, "cases", mode)
            fr.save_case(os.path.join(root, "cases"), mode, mode, fb.Outcome(), None,
                         {"extracted": files, "changed": files, "change": {"ops": []}})
            cls.cases.append(path)
        cls.out = os.path.join(root, "out")
        cls.fuzz_run = fb.fuzz(0, 0, cls.fake, jobs=2, out_dir=cls.out, replay=cls.cases,
                          log=lambda s: None)

    @classmethod
    def tearDownClass(cls):
        cls.folder.cleanup()

    def test_every_kind_of_failure_is_seen(self):
        found = {os.path.basename(self.cases[f.id]): f.category for f in self.fuzz_run.failures}
        self.assertEqual(found, {mode: c for mode, c in FAKE_MODES.items() if c})
        self.assertIn("cell 3 prints 'kept\\n' before, not after",
                      [f.detail for f in self.fuzz_run.failures])

    def test_failures_are_saved_as_cases_that_replay(self):
        for f in self.fuzz_run.failures:
            self.assertTrue(fr.is_case(f.path), f.path)
            for name in ("changed.json", "extracted.json", "failure.txt"):
                self.assertTrue(os.path.exists(os.path.join(f.path, name)), name)
            changed = fr.read_state(f.path, "changed")
            self.assertEqual(sorted(changed), ["hoisted/__init__.py", "hoisted/nb.py",
                                               fb.NOTEBOOK])
            with open(os.path.join(f.path, fr.CASE)) as case:
                self.assertEqual(json.load(case)["category"], f.category)
        again = fb.fuzz(0, 0, self.fake, jobs=2, out_dir=os.path.join(self.folder.name, "o2"),
                        replay=[f.path for f in self.fuzz_run.failures], log=lambda s: None)
        self.assertEqual(sorted(f.category for f in again.failures),
                         sorted(f.category for f in self.fuzz_run.failures))


class RerunFuzzTest(unittest.TestCase):
    """The re-run mode against the binary in NBHOIST_BINARY."""

    def run_fuzz(self, **kwargs) -> fb.FuzzRun:
        out = os.path.join(REPO, "target", "fuzz-behaviour", "rerun-failures")
        run = fb.fuzz(jobs=os.cpu_count() or 2, out_dir=out, log=io.StringIO().write, **kwargs)
        print(f"\nfuzz-behaviour --rerun: {run.notebooks} notebooks, {run.second_runs} "
              f"extracted again, {len(run.failures)} failures, {run.seconds:.1f} s",
              file=sys.stderr)
        return run

    def test_changed_notebooks_are_extracted_again(self):
        # The machinery, whatever nbhoist's bugs: most notebooks reach phase 2, with changes
        # of several kinds, and the harness itself never fails.
        binary = binary_or_skip(self)
        run = self.run_fuzz(n=24, seed=SEED, nbhoist=binary, rerun=True, max_shrink=0)
        self.assertGreaterEqual(run.second_runs, 20)
        self.assertGreaterEqual(len(run.changes), 6)
        self.assertEqual([f.detail for f in run.failures if f.category == "harness"], [])

    def test_changed_notebooks_behave_the_same(self):
        binary = binary_or_skip(self)
        n = int(os.environ.get("NBHOIST_FUZZ_RERUN") or 300)
        run = self.run_fuzz(n=n, seed=SEED, nbhoist=binary, rerun=True, max_shrink=5)
        if run.failures:
            self.fail(f"{len(run.failures)} of {n} changed notebooks fail (replay one with "
                      f"scripts/fuzz-behaviour --replay FOLDER --nbhoist {binary}):\n"
                      + "\n".join(f"{f.path or f.id} [{f.category}]: {f.detail}"
                                  for f in run.failures))

    def test_fuzz_found_rerun_cases_behave_the_same(self):
        binary = binary_or_skip(self)
        cases = fb.replay_paths([FOUND])
        run = self.run_fuzz(n=0, seed=0, nbhoist=binary, replay=cases, max_shrink=0)
        if run.failures:
            self.fail(replay_failures(run, cases))


if __name__ == "__main__":
    unittest.main()
