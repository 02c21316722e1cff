"""Tests of the differential behaviour fuzzer (tests/python/fuzz_behaviour.py).

The generator and harness tests are fast and always run. The bounded fuzz run (300 notebooks
with a fixed seed) and the replay of tests/fixtures/fuzz-found/ need an nbhoist binary: set
NBHOIST_BINARY to its path, e.g.

    cargo build --release --locked
    NBHOIST_BINARY=target/release/nbhoist target/test-venv/bin/python -m unittest \\
        discover -s tests/python -p test_fuzz_behaviour.py

Without it they are skipped, and say so. NBHOIST_FUZZ_NOTEBOOKS changes the number of
notebooks of the bounded run.
"""

from __future__ import annotations
import __future__

import ast
import io
import json
import os
import sys
import tempfile
import unittest

import fuzz_behaviour as fb

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SEED = 20240601
FOUND = os.path.join(REPO, "tests", "fixtures", "fuzz-found")

# Modules the generated notebooks may import besides the standard library: the ones they
# write themselves, and optional ones behind `except ImportError`.
OWN_MODULES = {"tools", "util", "mod2", "libmod", "ujson", "simplejson"}


def env_or_skip(test: unittest.TestCase, name: str, why: str) -> str:
    """The environment variable `name`; without it, the test is skipped and says `why`."""
    value = os.environ.get(name)
    if not value:
        reason = f"{name} is not set: {why}"
        print(f"\nskipped {test.id()}: {reason}", file=sys.stderr)
        test.skipTest(reason)
    return value


def binary_or_skip(test: unittest.TestCase) -> str:
    return os.path.abspath(env_or_skip(test, "NBHOIST_BINARY", "build nbhoist and set it to "
                                       "the binary's path to run the behaviour fuzzer"))


def replay_failures(run: fb.FuzzRun, paths: list[str]) -> str:
    """What failed in a replay of `paths`, one line each."""
    return f"{len(run.failures)} of {len(paths)} fail:\n" + "\n".join(
        f"{paths[f.id]} [{f.category}]: {f.detail}" for f in run.failures)


def code_of(nb: fb.Notebook) -> list[str]:
    return [fb.cell_source(cell) for cell in nb.cells]


def compile_cell(source: str) -> None:
    """Compile a cell as IPython runs it: one top-level statement at a time, with the
    `from __future__` flags of the statements before; magic lines become `pass`, and a cell
    magic's body is compiled on its own."""
    if source.startswith("%%"):
        source = source.split("\n", 1)[1]
    lines = [line[:len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith("%")
             else line for line in source.splitlines()]
    flags = 0
    for node in ast.parse("\n".join(lines)).body:
        compile(ast.Module([node], []), "<cell>", "exec", flags=flags, dont_inherit=True)
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            for alias in node.names:
                flags |= getattr(__future__, alias.name).compiler_flag


class GeneratorTest(unittest.TestCase):
    def test_same_seed_same_notebooks(self):
        for i in range(50):
            self.assertEqual(fb.generate(7, i).doc(), fb.generate(7, i).doc())

    def test_other_seeds_other_notebooks(self):
        one = [code_of(fb.generate(1, i)) for i in range(20)]
        two = [code_of(fb.generate(2, i)) for i in range(20)]
        self.assertNotEqual(one, two)
        self.assertEqual(len({json.dumps(c) for c in one}), 20)

    def test_every_production_is_reachable(self):
        seen = set()
        for i in range(600):
            seen |= fb.generate(SEED, i).productions()
        self.assertEqual(sorted(set(fb.BLOCK_PRODUCTIONS) - seen), [])
        self.assertEqual(sorted(seen - set(fb.BLOCK_PRODUCTIONS)), [])

    def test_every_production_has_a_method(self):
        for name, weight in fb.PRODUCTIONS:
            self.assertTrue(callable(getattr(fb.Gen, "p_" + name, None)), name)
            self.assertGreater(weight, 0)

    def test_generated_cells_compile(self):
        # Every cell is valid Python as IPython compiles it, but the cells that have a syntax
        # or compile error by design; across many seeds, so that every variant of the
        # productions for definitions written as assignments, star imports and postponed
        # annotations shows up.
        broken = {"syntax_error_cell", "compile_error_cell"}
        checked = set()
        for seed in range(20):
            for i in range(100):
                for cell in fb.generate(seed, i).cells:
                    productions = {b.production for b in cell}
                    if productions & broken:
                        continue
                    source = fb.cell_source(cell)
                    try:
                        compile_cell(source)
                    except SyntaxError as e:
                        self.fail(f"notebook {i} of seed {seed}: {e}\n{source}")
                    checked |= productions
        self.assertEqual(sorted(fb.ON_TOP - checked), [])

    def test_assigned_definitions_are_on_top_of_the_mix(self):
        # The productions in ON_TOP add blocks without taking the place of the others: the
        # other productions are drawn about as often as without them.
        def draws(weights):
            drawn = []
            original = fb.random.Random.choices

            def spy(self, population, weights=None, **kw):
                picked = original(self, population, weights, **kw)
                drawn.extend(picked)
                return picked

            fb.random.Random.choices = spy
            try:
                for i in range(300):
                    fb.generate(SEED, i, weights)
            finally:
                fb.random.Random.choices = original
            return (sum(name not in fb.ON_TOP for name in drawn),
                    sum(name in fb.ON_TOP for name in drawn))

        others_alone, _ = draws({name: 0 for name in fb.ON_TOP})
        others, on_top = draws(None)
        self.assertAlmostEqual(others / others_alone, 1, delta=0.05)
        self.assertGreater(on_top, 300)
        # Aimed at them alone, notebooks still end.
        alone = {name: 0 for name, _ in fb.PRODUCTIONS if name not in fb.ON_TOP}
        for i in range(20):
            self.assertLessEqual(fb.generate(SEED, i, alone).productions() - {"import_plain"},
                                 fb.ON_TOP | {"call", "const_def", "const_mutate",
                                              "data_variable", "annotations_hints"})

    def test_future_import_starts_its_cell(self):
        for i in range(300):
            for cell in fb.generate(SEED, i).cells:
                for block in cell[1:]:
                    self.assertFalse(block.starts_cell, fb.cell_source(cell))

    def test_three_to_twelve_cells(self):
        counts = {len(fb.generate(SEED, i).cells) for i in range(300)}
        self.assertEqual(min(counts), 3)
        self.assertEqual(max(counts), 12)

    def test_magic_cells_stand_alone(self):
        for i in range(300):
            for cell in fb.generate(SEED, i).cells:
                for block in cell[1:]:
                    self.assertFalse(block.text.startswith("%%"), block.text)
                if cell[0].solo:
                    self.assertEqual(len(cell), 1)

    def test_generated_code_imports_only_the_standard_library(self):
        allowed = set(sys.stdlib_module_names) | OWN_MODULES
        for i in range(300):
            for source in code_of(fb.generate(SEED, i)):
                if source.startswith("%%writefile"):
                    source = source.split("\n", 1)[1]
                code = "\n".join("" if line.lstrip().startswith("%") else line
                                 for line in source.splitlines())
                try:
                    tree = ast.parse(code)
                except SyntaxError:
                    continue
                for node in ast.walk(tree):
                    if isinstance(node, ast.Import):
                        names = [a.name for a in node.names]
                    elif isinstance(node, ast.ImportFrom):
                        names = [node.module or ""]
                    else:
                        continue
                    for name in names:
                        self.assertIn(name.split(".")[0], allowed, source)

    def test_notebooks_are_valid_nbformat_like_the_fixtures(self):
        import nbformat

        doc = fb.generate(SEED, 3).doc()
        nbformat.validate(nbformat.from_dict(doc))
        self.assertEqual(doc["nbformat_minor"], 5)
        self.assertEqual(doc["metadata"]["kernelspec"]["name"], "python3")
        self.assertEqual([c["id"] for c in doc["cells"]],
                         [f"c{i}" for i in range(len(doc["cells"]))])

    def test_enough_definitions_to_move(self):
        # Plain functions dominate: most notebooks define several functions or classes.
        defs = 0
        for i in range(200):
            for source in code_of(fb.generate(SEED, i)):
                try:
                    tree = ast.parse(source)
                except SyntaxError:
                    continue
                defs += sum(isinstance(n, (ast.FunctionDef, ast.ClassDef)) for n in tree.body)
        self.assertGreater(defs / 200, 3)


class HarnessTest(unittest.TestCase):
    def test_normalise(self):
        folder = "/tmp/x/original"
        self.assertEqual(fb.normalise("<function f at 0x7f00ab>", folder), "<function f at 0x?>")
        self.assertEqual(fb.normalise("<hoisted.nb.Point object at 0x1>", folder),
                         "<__main__.Point object at 0x?>")
        self.assertEqual(fb.normalise("<class 'hoisted.nb.Point'>", folder),
                         "<class '__main__.Point'>")
        self.assertEqual(fb.normalise("hoisted.nb.Point", folder), "__main__.Point")
        self.assertEqual(fb.normalise("<function hoisted.nb.<lambda>(x)>", folder),
                         "<function __main__.<lambda>(x)>")
        self.assertEqual(fb.normalise("hoisted.tools/2", folder), "hoisted.tools/2")
        self.assertEqual(fb.normalise("hoisted.nb", folder), "hoisted.nb")
        self.assertEqual(fb.normalise("/tmp/x/original/sub\n", folder), "<folder>/sub\n")
        self.assertEqual(
            fb.normalise("CPU times: user 3 µs, sys: 0 ns, total: 3 µs\nWall time: 5 µs\n", folder),
            "CPU times: ?\nWall time: ?\n")
        self.assertIsNone(fb.normalise(None, folder))

    def test_first_difference(self):
        def ev(cell, kind, text):
            return {"cell": cell, "kind": kind, "text": text}

        before = [ev(1, "error", "NameError"), ev(2, "stdout", "a\n")]
        after = [ev(2, "stdout", "0.05\n"), ev(3, "stdout", "a\n")]
        diff = fb.first_difference(before, after)
        self.assertEqual(diff, ("replace", before[0], after[0]))
        self.assertEqual(fb.describe_difference(diff),
                         "cell 1 raises NameError before, cell 2 prints '0.05\\n' after")
        extra = [ev(1, "result", "3")] + before
        self.assertEqual(fb.describe_difference(fb.first_difference(before, extra)),
                         "cell 1 shows Out '3' after, not before")
        self.assertIsNone(fb.first_difference(before, [dict(e, cell=9) for e in before]))

    def test_split_lines_keeps_decorators_and_comments(self):
        block = fb.Block("p", "# top\nimport os\n\n@deco\ndef f(x):\n    return x\nf(1)")
        self.assertEqual([b.text for b in fb._split_lines(block)],
                         ["# top\nimport os", "@deco\ndef f(x):\n    return x", "f(1)"])
        magic = fb.Block("p", "%%time\nx = 1\ny = 2", solo=True)
        self.assertEqual(fb._split_lines(magic), [magic])

    def test_line_groups(self):
        self.assertEqual(fb._line_groups("def f():\n    a\n\n    b\nx = 1"), [(0, 4), (1, 3), (3, 4), (4, 5)])
        self.assertEqual(fb._line_groups("%%writefile a.py\nx = 1"), [(1, 2)])

    def test_shrinker_finds_the_cells_that_matter(self):
        class Fake(fb.Shrinker):
            def fails(self, cells):
                text = "\n".join(fb.cell_source(c) for c in cells if c)
                self.tests += 1
                return "print(RATE)" in text and "RATE = 0.05" in text.split("print(RATE)")[1]

        nb = fb.Notebook([[fb.Block("a", "import os")], [fb.Block("b", "print(RATE)")],
                          [fb.Block("c", "x = 1\ny = 2")],
                          [fb.Block("d", "def f(x):\n    return x\n\nRATE = 0.05")],
                          [fb.Block("e", "print(f(1))")]])
        cells = Fake("nbhoist", fb.Outcome("behaviour")).shrink(nb.cells)
        self.assertEqual([fb.cell_source(c) for c in cells], ["print(RATE)\n\nRATE = 0.05"])

    def test_replayed_notebooks_keep_their_cells(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "nb.ipynb")
            doc = fb.generate(SEED, 1).doc()
            doc["cells"].insert(0, {"cell_type": "markdown", "id": "md", "metadata": {},
                                    "source": ["# Title"]})
            doc["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout",
                                           "text": ["hi\n"]}]
            fb.write_notebook(path, doc)
            self.assertEqual(fb.load_notebook(path).doc(), doc)

    def test_original_runs_are_deterministic(self):
        # Each generated notebook, run twice in two folders, prints the same: the comparison
        # with the rewritten notebook only shows what nbhoist changed.
        with tempfile.TemporaryDirectory() as out:
            run = fb.fuzz(16, SEED, "", jobs=2, out_dir=out, determinism=True,
                          log=lambda s: None)
        self.assertEqual([(f.id, f.detail) for f in run.failures], [])


# A stand-in for nbhoist whose misbehaviour the notebook's first line asks for, to check that
# the harness sees each kind of failure.
FAKE_NBHOIST = r"""
import json, os, sys

notebook = sys.argv[2]
with open(notebook) as f:
    nb = json.load(f)
mode = "".join(nb["cells"][0]["source"]).splitlines()[0].split("MODE=")[1]
if mode == "exit":
    print("nb.ipynb: cannot extract", file=sys.stderr)
    sys.exit(2)
os.makedirs("hoisted", exist_ok=True)
module = {"compile": "def f(:\n    pass\n", "import": "raise ValueError('no')\n"}.get(mode, "")
if mode == "idempotence" and os.path.exists("hoisted/nb.py"):
    module = open("hoisted/nb.py").read() + "# again\n"
for name, text in [("__init__.py", ""), ("nb.py", module)]:
    with open(os.path.join("hoisted", name), "w") as f:
        f.write(text)
if mode == "behaviour":
    nb["cells"] = [c for c in nb["cells"] if "print('kept')" not in "".join(c["source"])]
    with open(notebook, "w") as f:
        json.dump(nb, f)
print("  move  f  cell 1  function")
"""


class HarnessFailureTest(unittest.TestCase):
    """Each kind of failure, found with a fake nbhoist; and the shrinker on a real run."""

    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.TemporaryDirectory()
        cls.fake = os.path.join(cls.folder.name, "nbhoist")
        with open(cls.fake, "w") as f:
            f.write(f"#!{sys.executable}\n{FAKE_NBHOIST}")
        os.chmod(cls.fake, 0o755)
        notebooks = []
        for mode in ["ok", "exit", "compile", "import", "idempotence", "behaviour"]:
            path = os.path.join(cls.folder.name, f"{mode}.ipynb")
            cells = [f"# MODE={mode}\nx = 1", "print('kept')", "y = 2", "print(x + y)"]
            fb.write_notebook(path, fb.notebook_doc([[fb.Block("replay", c)] for c in cells]))
            notebooks.append(path)
        cls.out = os.path.join(cls.folder.name, "out")
        cls.fuzz_run = fb.fuzz(0, 0, cls.fake, jobs=2, out_dir=cls.out, replay=notebooks,
                          max_shrink=1, shrink_budget=40, log=lambda s: None)
        cls.notebooks = notebooks

    @classmethod
    def tearDownClass(cls):
        cls.folder.cleanup()

    def test_every_kind_of_failure_is_seen(self):
        found = {os.path.basename(self.notebooks[f.id]): f.category for f in self.fuzz_run.failures}
        self.assertEqual(found, {
            "exit.ipynb": "extract-failed", "compile.ipynb": "module-compile",
            "import.ipynb": "module-import", "idempotence.ipynb": "not-idempotent",
            "behaviour.ipynb": "behaviour"})
        self.assertEqual(self.fuzz_run.moved, 5)  # all but the one that exits 2

    def test_failures_are_saved_and_the_first_is_shrunk(self):
        by_name = {os.path.basename(self.notebooks[f.id]): f for f in self.fuzz_run.failures}
        behaviour = by_name["behaviour.ipynb"]
        self.assertEqual(behaviour.detail, "cell 2 prints 'kept\\n' before, not after")
        for f in self.fuzz_run.failures:
            self.assertTrue(os.path.exists(f.path), f.path)
            self.assertTrue(os.path.exists(f.path[:-len(".ipynb")] + ".txt"))
        shrunk = [f for f in self.fuzz_run.failures if f.cells < 4]
        self.assertEqual(len(shrunk), 1)
        # The shrunk notebook still fails the same way, with only what that needs.
        sources = [fb.cell_source(c) for c in fb.load_notebook(shrunk[0].path).cells]
        self.assertLess(len(sources), 4)
        self.assertIn("MODE=", sources[0])


class FuzzRunTest(unittest.TestCase):
    """The fuzzer itself, against the binary in NBHOIST_BINARY."""

    def run_fuzz(self, **kwargs) -> fb.FuzzRun:
        out = os.path.join(REPO, "target", "fuzz-behaviour", "failures")
        log = io.StringIO()
        run = fb.fuzz(jobs=os.cpu_count() or 2, out_dir=out, log=log.write, **kwargs)
        print(f"\nfuzz-behaviour: {run.notebooks} notebooks, {len(run.failures)} failures, "
              f"{run.seconds:.1f} s", file=sys.stderr)
        return run

    def test_generated_notebooks_behave_the_same(self):
        binary = binary_or_skip(self)
        n = int(os.environ.get("NBHOIST_FUZZ_NOTEBOOKS", "300"))
        run = self.run_fuzz(n=n, seed=SEED, nbhoist=binary, max_shrink=5)
        if run.failures:
            self.fail(f"{len(run.failures)} of {n} notebooks fail (replay one with "
                      f"scripts/fuzz-behaviour --replay PATH --nbhoist {binary}):\n" + "\n".join(
                          f"{f.path or f.id} [{f.category}]: {f.detail}" for f in run.failures))

    def test_fuzz_found_notebooks_behave_the_same(self):
        binary = binary_or_skip(self)
        if not os.path.isdir(FOUND):
            self.skipTest(f"no {FOUND}")
        paths = sorted(os.path.join(FOUND, f) for f in os.listdir(FOUND) if f.endswith(".ipynb"))
        run = self.run_fuzz(n=0, seed=0, nbhoist=binary, replay=paths, max_shrink=0)
        if run.failures:
            self.fail(replay_failures(run, paths))


if __name__ == "__main__":
    unittest.main()
