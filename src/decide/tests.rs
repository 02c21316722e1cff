//! The rules one by one on small notebooks, and the decisions about every fixture notebook.

use std::fmt::Write as _;

use super::*;
use crate::analysis::{RunEffect, analyse};
use crate::notebook::code_notebook;

/// The verdict of every definition of a notebook made of these code cells, as
/// `name: move` or `name: stay (code) reason`.
fn verdicts(cells: &[&str]) -> Vec<String> {
    let notebook = code_notebook(cells);
    let analysis = analyse(&notebook);
    let target = Target {
        module: "nb",
        dotted: Some("pkg.nb"),
        runners: None,
        ..Target::default()
    };
    let decisions = decide(&notebook, &analysis, target);
    described(&analysis, &decisions, false)
}

/// Each definition's verdict as `name: move` (with what it needs when `needs` is set) or
/// `name: stay (code) reason`.
fn described(
    analysis: &crate::analysis::Analysis,
    decisions: &Decisions,
    needs: bool,
) -> Vec<String> {
    analysis
        .definitions
        .iter()
        .zip(&decisions.verdicts)
        .map(|(definition, verdict)| match verdict {
            Verdict::Move(moved) if needs => {
                format!("{}: move {:?}", definition.name, moved.names())
            }
            Verdict::Move(_) => format!("{}: move", definition.name),
            Verdict::Stay(reason) => {
                format!("{}: stay ({}) {reason}", definition.name, reason.code())
            }
        })
        .collect()
}

/// The verdict of the one definition named `name`.
fn verdict_of(cells: &[&str], name: &str) -> String {
    let all = verdicts(cells);
    let prefix = format!("{name}: ");
    all.iter()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no definition {name} in {all:?}"))
        .to_owned()
}

fn moves(cells: &[&str], name: &str) {
    assert_eq!(verdict_of(cells, name), "move", "{cells:?}");
}

fn stays(cells: &[&str], name: &str, code: &str) {
    let verdict = verdict_of(cells, name);
    assert!(
        verdict.starts_with(&format!("stay ({code})")),
        "{name} in {cells:?}: {verdict}"
    );
}

#[test]
fn bound_once_or_by_the_same_code() {
    moves(&["def f():\n    return 1", "def f():\n    return 1"], "f");
    stays(
        &["def f():\n    return 1", "def f():\n    return 2", "f = 2"],
        "f",
        "rebound",
    );
    stays(&["def f():\n    return 1", "f = 3"], "f", "rebound");
    stays(&["def f():\n    return 1", "del f"], "f", "rebound");
}

#[test]
fn the_last_version_of_a_redefined_name_moves() {
    let v1 = "def clean(s):\n    return s.strip()";
    let v2 = "def clean(s):\n    return s.strip().lower()";
    let all = verdicts(&[v1, "print(clean(' A '))", v2, "print(clean(' A '))"]);
    assert_eq!(all[1], "clean: move", "{all:?}");
    assert!(
        all[0].starts_with("clean: stay (earlier-version)"),
        "{all:?}"
    );
    // The same code again after the last version: both copies of it would be one object.
    let all = verdicts(&[v1, v2, v1]);
    assert!(all.iter().all(|v| v.contains("(redefined)")), "{all:?}");
    // Bound otherwise too: everything stays, as before.
    let all = verdicts(&[v1, v2, "clean = str.strip"]);
    assert!(all.iter().all(|v| v.contains("(rebound)")), "{all:?}");
    // The last version staying keeps the earlier ones for its reason.
    let all = verdicts(&[v1, "x = 1\nx += 1", "def clean(s):\n    return s * x"]);
    assert!(
        all.iter().all(|v| v.contains("(reads-variable)")),
        "{all:?}"
    );
    // An earlier version that reads a notebook variable stays alone.
    let all = verdicts(&["x = 1\nx += 1", "def clean(s):\n    return s * x", v2]);
    assert_eq!(all[1], "clean: move", "{all:?}");
    // A default reading the earlier version would not exist in the module.
    let all = verdicts(&[v1, "def clean(s, old=clean):\n    return old(s).lower()"]);
    assert!(
        all.iter().all(|v| v.contains("(sees-earlier-version)")),
        "{all:?}"
    );
}

#[test]
fn a_caller_of_a_redefined_name_moves_only_when_it_runs_after_the_last_version() {
    let v1 = "def clean(s):\n    return s.strip()";
    let v2 = "def clean(s):\n    return s.strip().lower()";
    let caller = "def shout(s):\n    return clean(s) + '!'";
    moves(&[v1, caller, v2, "print(shout(' A '))"], "shout");
    stays(
        &[v1, caller, "print(shout(' A '))", v2, "print(shout(' A '))"],
        "shout",
        "sees-earlier-version",
    );
    // Decorating with it between the versions uses the earlier one.
    stays(
        &[v1, "@clean\ndef g(s):\n    return s", v2],
        "g",
        "sees-earlier-version",
    );
    // A constant built between the versions holds the earlier one.
    let g = "def g():\n    return H[0](' a ')";
    stays(&[v1, "H = [clean]", g, v2], "g", "depends-on");
    moves(&[v1, v2, "H = [clean]", g], "g");
    // A lambda calling it, used between the versions, would call the last one.
    let g = "def g(s):\n    return f(s)";
    let lambda = "f = lambda s: clean(s)";
    stays(
        &[v1, lambda, g, "print(f(' a '))", v2],
        "g",
        "sees-earlier-version",
    );
    moves(&[v1, lambda, g, v2, "print(f(' a '))"], "g");
}

#[test]
fn a_name_has_one_verdict() {
    // The copy in a magic cell stays; so does its twin, with the reason of the first copy.
    let all = verdicts(&["%%time\ndef f():\n    return 1", "def f():\n    return 1"]);
    assert!(all.iter().all(|v| v.starts_with("f: stay")), "{all:?}");
    // A setup cell between two copies keeps both.
    let all = verdicts(&[
        "def f():\n    return thing.x",
        "!pip install thing",
        "import thing",
        "def f():\n    return thing.x",
    ]);
    assert!(all.iter().all(|v| v.starts_with("f: stay")), "{all:?}");
}

#[test]
fn no_global() {
    moves(&["counter = 0", "def f():\n    return 1"], "f");
    stays(
        &[
            "counter = 0",
            "def bump():\n    global counter\n    counter += 1",
        ],
        "bump",
        "global",
    );
}

#[test]
fn static_cells_and_code() {
    moves(&["def f():\n    return 1"], "f");
    stays(
        &["def f(:\n    pass\ndef g():\n    return 1"],
        "g",
        "syntax-error",
    );
    stays(&[" def f():\n     return 1"], "f", "reformatted-cell");
    stays(&["%%time\ndef f():\n    return 1"], "f", "magic-cell");
    stays(&["def f():\n    !ls\n    return 1"], "f", "ipython-syntax");
    stays(
        &["import asyncio", "def f():\n    await asyncio.sleep(1)"],
        "f",
        "syntax-error",
    );
    // IPython compiles a cell a statement at a time: what comes before the one CPython
    // refuses still runs, and here sees `f` unbound.
    stays(
        &[
            "print(f())\ndef g(a, a):\n    pass",
            "def f():\n    return 1",
        ],
        "f",
        "used-too-early",
    );
    stays(&["def f(x):\n    return eval(x)"], "f", "dynamic");
    stays(
        &["class C:\n    print('defining')"],
        "C",
        "definition-time-effect",
    );
}

#[test]
fn what_it_reads_must_be_available() {
    moves(&["import os", "def f():\n    return os.sep"], "f");
    moves(&["SCALE = 2", "def f(x):\n    return x * SCALE"], "f");
    moves(&["def f(x):\n    display(x)"], "f");
    stays(
        &["rows = load()", "def f():\n    return rows"],
        "f",
        "reads-variable",
    );
    stays(
        &["from .utils import g", "def f():\n    return g()"],
        "f",
        "relative-import",
    );
    stays(&["def f():\n    return missing"], "f", "undefined");
    stays(&["def f():\n    return Out[1]"], "f", "history");
    stays(&["def f():\n    return __name__"], "f", "dunder");
    moves(
        &["from math import *", "def f(x):\n    return sqrt(x)"],
        "f",
    );
}

#[test]
fn a_standard_library_star_import_binds_what_it_exports() {
    // `math.pow`, imported by name: the notebook's `pow` after the star import.
    assert_eq!(
        needs_of(
            &["from math import *", "def f(x):\n    return pow(x, 2)"],
            "f"
        ),
        ["pow"]
    );
    // `math` does not export `len`: still the builtin.
    assert!(needs_of(&["from math import *", "def f(x):\n    return len(x)"], "f").is_empty());
    // The last star import that binds it wins.
    let cells = [
        "from math import *",
        "from cmath import *",
        "def f(x):\n    return sqrt(x)",
    ];
    assert_eq!(needs(&cells, "f").star["sqrt"].code_cell, 1);
    // Called before the star import rebinds `pow`: it saw the builtin there.
    stays(
        &[
            "def f(x):\n    return pow(x, 2)",
            "f(2)",
            "from math import *",
        ],
        "f",
        "used-too-early",
    );
    // Read while defining it, before the star import rebinds it.
    stays(
        &["def f(x, p=pow(2, 3)):\n    return x", "from math import *"],
        "f",
        "star-rebinds-later",
    );
    stays(
        &[
            "from math import *",
            "def f(x, p=sqrt(4)):\n    return x",
            "from cmath import *",
        ],
        "f",
        "defined-too-early",
    );
}

#[test]
fn a_star_import_after_an_import_may_bind_its_name_again() {
    stays(
        &[
            "from typing import Callable",
            "from collections.abc import *",
            "def f(x: Callable):\n    return x",
        ],
        "f",
        "star-rebinds-import",
    );
    // `math` does not export `Callable`; a star import before the import does not matter.
    moves(
        &[
            "from collections.abc import *",
            "from typing import Callable",
            "from math import *",
            "def f(x: Callable):\n    return x",
        ],
        "f",
    );
}

#[test]
fn a_star_import_outside_the_standard_library_binds_what_nobody_knows() {
    stays(
        &[
            "from fastcore.utils import *",
            "def f(x):\n    return len(x)",
        ],
        "f",
        "star-shadows-builtin",
    );
    stays(
        &[
            "from fastcore.utils import *",
            "def f(x):\n    return store_attr(x)",
        ],
        "f",
        "from-star-import",
    );
    // Private names are bound only when listed in `__all__`.
    stays(
        &[
            "from fastcore.utils import *",
            "def f(x):\n    return _private(x)",
        ],
        "f",
        "from-star-import",
    );
}

/// What the one definition named `name` takes with it, when it moves.
fn needs_of(cells: &[&str], name: &str) -> Vec<String> {
    needs(cells, name).names()
}

/// What the one definition named `name` takes with it, when it moves, in full.
fn needs(cells: &[&str], name: &str) -> Needs {
    let notebook = code_notebook(cells);
    let analysis = analyse(&notebook);
    let target = Target {
        module: "nb",
        dotted: None,
        runners: None,
        ..Target::default()
    };
    let decisions = decide(&notebook, &analysis, target);
    let i = analysis
        .definitions
        .iter()
        .position(|d| d.name == name)
        .unwrap();
    match &decisions.verdicts[i] {
        Verdict::Move(needs) => needs.clone(),
        Verdict::Stay(reason) => panic!("{name} stays: {reason}"),
    }
}

#[test]
fn an_import_block_takes_what_its_condition_reads() {
    let block =
        "if sys.version_info >= (3, 11):\n    import tomllib\nelse:\n    import tomli as tomllib";
    assert_eq!(
        needs_of(
            &[
                "import sys",
                block,
                "def f(s):\n    return tomllib.loads(s)"
            ],
            "f"
        ),
        ["sys", "tomllib"]
    );
    stays(
        &[
            "fast = len([1])",
            "if fast:\n    import json\nelse:\n    import pickle as json",
            "def f(s):\n    return json.loads(s)",
        ],
        "f",
        "reads-variable",
    );
}

#[test]
fn a_definition_that_uses_one_that_stays_stays() {
    let cells = [
        "rows = load()",
        "def f():\n    return rows",
        "def g():\n    return f()",
    ];
    stays(&cells, "g", "depends-on");
    assert!(verdict_of(&cells, "g").contains("which stays because it reads notebook variable"));
    // Mutually recursive definitions move together.
    let cells = [
        "def even(n):\n    return n == 0 or odd(n - 1)",
        "def odd(n):\n    return n != 0 and even(n - 1)",
    ];
    moves(&cells, "even");
    moves(&cells, "odd");
}

#[test]
fn not_used_before_what_it_needs_is_bound() {
    stays(
        &["def f():\n    return g()", "f()", "def g():\n    return 1"],
        "f",
        "used-too-early",
    );
    moves(
        &["def f():\n    return g()", "def g():\n    return 1", "f()"],
        "f",
    );
    // A name only an annotation that is never evaluated mentions is not read.
    moves(
        &[
            "from __future__ import annotations\n\nclass Base:\n    size: 'Point' = 2\n\nBase()\n\nclass Point:\n    pass",
        ],
        "Base",
    );
    stays(
        &["class Base:\n    size: Point = 2\n\nBase()\n\nclass Point:\n    pass"],
        "Base",
        "defined-too-early",
    );
}

#[test]
fn a_last_version_is_not_imported_in_place_after_a_change_of_directory() {
    let cells =
        ["import os\ndef parse(x):\n    return x\nos.chdir('sub')\ndef parse(x):\n    return 2"];
    stays(&cells, "parse", "in-place-after-chdir");
    let before = verdicts(&[
        "import os\ndef parse(x):\n    return x\ndef parse(x):\n    return 2\nos.chdir('sub')",
    ]);
    assert_eq!(before[1], "parse: move");
}

#[test]
fn a_mention_is_not_a_use_but_a_call_is() {
    // `f`'s body names `g`, defined later; only running `f` before `g` exists is a use.
    let cells = [
        "def f():\n    return g()",
        "def g():\n    return 1",
        "print(f())",
    ];
    moves(&cells, "f");
    moves(&cells, "g");
    // Running `h` at cell 2 runs `f`, whose `g` is bound only in cell 3.
    let cells = [
        "def f():\n    return g()",
        "def h():\n    return f()\n\ntry:\n    h()\nexcept NameError:\n    pass",
        "def g():\n    return 1",
    ];
    stays(&cells, "g", "used-too-early");
    // A builtin the notebook redefines later keeps its meaning until then.
    stays(
        &["print(max([3, 7]))", "def max(xs):\n    return 0"],
        "max",
        "used-too-early",
    );
}

#[test]
fn constants_are_not_read_before_they_are_bound() {
    let cells = [
        "try:\n    print(RATE)\nexcept NameError:\n    pass",
        "RATE = 0.05",
        "def f(x):\n    return x * RATE",
    ];
    stays(&cells, "f", "constant-used-early");
    moves(
        &[
            "RATE = 0.05",
            "print(RATE)",
            "def f(x):\n    return x * RATE",
        ],
        "f",
    );
}

#[test]
fn listing_the_notebook_names_before_a_definition_keeps_it() {
    stays(
        &["print('f' in globals())", "def f():\n    return 1"],
        "f",
        "listed-early",
    );
    stays(&["%who", "def f():\n    return 1"], "f", "listed-early");
    moves(&["def f():\n    return 1", "print('f' in globals())"], "f");
}

#[test]
fn what_runs_while_defining_must_run_the_same_at_the_import() {
    stays(
        &[
            "COLS = [1, 2]",
            "COLS.append(3)",
            "def f(n=len(COLS)):\n    return n",
        ],
        "f",
        "changed-before",
    );
    moves(
        &[
            "COLS = [1, 2]",
            "print(len(COLS))",
            "def f(n=len(COLS)):\n    return n",
        ],
        "f",
    );
    stays(
        &[
            "import string",
            "string.punctuation = '!'",
            "STRIP = string.punctuation",
            "def f(s):\n    return s.strip(STRIP)",
        ],
        "f",
        "constant-changed",
    );
    stays(
        &[
            "import random",
            "random.seed(42)",
            "def jitter(x, noise=random.gauss(0, 1)):\n    return x + noise",
        ],
        "jitter",
        "definition-time-state",
    );
    moves(
        &[
            "import random",
            "def jitter(x):\n    return x + random.gauss(0, 1)",
        ],
        "jitter",
    );
    stays(
        &["class Dog(Animal):\n    pass", "class Animal:\n    pass"],
        "Dog",
        "defined-too-early",
    );
    // A decorator that prints when applied keeps what it decorates; one whose wrapper prints
    // when called does not.
    let printing = "def deco(f):\n    print('decorating')\n    return f";
    stays(
        &[printing, "@deco\ndef g():\n    return 1"],
        "g",
        "definition-time-effect",
    );
    let wrapping = "def deco(f):\n    def wrapper():\n        print('calling')\n        return f()\n    return wrapper";
    moves(&[wrapping, "@deco\ndef g():\n    return 1"], "g");
    // A class used only in an annotation does not run.
    moves(
        &[
            "class Noisy:\n    def show(self):\n        print(self)",
            "def f(x: Noisy) -> Noisy:\n    return x",
        ],
        "f",
    );
}

#[test]
fn names_ipython_provides_and_frame_access_stay() {
    stays(&["def stop():\n    exit()"], "stop", "ipython-name");
    stays(
        &[
            "import inspect",
            "def f():\n    return inspect.currentframe().f_back.f_globals",
        ],
        "f",
        "dynamic",
    );
}

#[test]
fn a_later_star_import_may_rebind_a_moved_name() {
    stays(
        &[
            "def mean(xs):\n    return xs[0]",
            "from statistics import *",
        ],
        "mean",
        "star-may-rebind",
    );
    // A standard-library module binds only what it exports.
    moves(
        &[
            "def average(xs):\n    return xs[0]",
            "from statistics import *",
        ],
        "average",
    );
    // Private names are not bound by a star import.
    moves(
        &[
            "def _mean(xs):\n    return xs[0]",
            "from statistics import *",
        ],
        "_mean",
    );
}

#[test]
fn a_definition_after_a_statement_that_raises_never_existed() {
    stays(
        &["print(undefined_name)\n\ndef double(x):\n    return x * 2"],
        "double",
        "after-name-error",
    );
    moves(
        &["print(len('a'))\n\ndef double(x):\n    return x * 2"],
        "double",
    );
    // `f` never existed, so reading it stops the next cell before `g`.
    let chain = [
        "print(CONF)\ndef f():\n    return 1",
        "print(f())\ndef g():\n    return 2",
        "print(g())",
    ];
    stays(&chain, "g", "after-name-error");
    moves(&["CONF = 1", chain[0], chain[1], chain[2]], "g");
    // `OrderedDict` is unbound unless type checking: the annotation raised `NameError`.
    let type_checking = [
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from collections import OrderedDict",
        "def f(d: OrderedDict):\n    return d\ndef g():\n    return 1",
    ];
    stays(&type_checking, "f", "maybe-unbound");
    // `statistics` exports no `OrderedDict`.
    stays(
        &[
            "from statistics import *",
            type_checking[0],
            type_checking[1],
        ],
        "f",
        "maybe-unbound",
    );
    stays(&type_checking, "g", "after-name-error");
    moves(
        &[
            "from __future__ import annotations",
            type_checking[0],
            type_checking[1],
        ],
        "g",
    );
    // `h` reads `LATER` before any cell binds it: calling it may raise.
    stays(
        &[
            "def h():\n    return LATER",
            "print(h())\ndef g():\n    return 1",
            "LATER = 1",
        ],
        "g",
        "after-name-error",
    );
    // `COLS` never existed: `print(mean(1))` stopped its cell.
    stays(
        &[
            "print(mean(1))\nCOLS = ['a']",
            "def clean(x, n=len(COLS)):\n    return x + n",
        ],
        "clean",
        "never-bound",
    );
    // `functools` was never imported: `print(g(3))` stopped its cell.
    stays(
        &[
            "print(g(3))\nimport functools",
            "def f(x):\n    return functools.reduce(max, [x])",
        ],
        "f",
        "never-bound",
    );
    // `counter` is bound only once something calls `f`.
    stays(
        &[
            "def f(x):\n    global counter\n    counter = x\n\nprint(counter)\n\ndef g():\n    return 1",
        ],
        "g",
        "after-name-error",
    );
    // `math` has no `prodtw`: the import raises, and nothing after it in the cell exists.
    let missing = [
        "from math import sqrt, prodtw\n\ndef f(x):\n    return x",
        "def g(x):\n    return sqrt(x)",
    ];
    stays(&missing, "f", "after-missing-import");
    stays(&missing, "g", "never-bound");
    moves(
        &["from os import path\nfrom collections import abc\n\ndef f(x):\n    return x"],
        "f",
    );
    // `%time total(2)` raises `NameError` when `total` is unbound.
    stays(
        &["%time total(2)\nLIMIT = 3", "def f():\n    return LIMIT"],
        "f",
        "never-bound",
    );
    // `eval('RATE')` reads `RATE` before the cell that binds it.
    stays(
        &[
            "print(eval('RATE'))",
            "RATE = 0.25\n\ndef g(x):\n    return x * RATE",
        ],
        "g",
        "constant-used-early",
    );
    // `from math import pi` after `math.pi = 3.0` binds the changed value.
    stays(
        &[
            "import math\nmath.pi = 3.0\nfrom math import pi",
            "def total(x):\n    return x + pi",
        ],
        "total",
        "import-changed",
    );
    // ... and before it: the package imports `pi` after the change.
    stays(
        &[
            "import math\nfrom math import pi\nmath.pi = 3.0",
            "def total(x):\n    return x + pi",
        ],
        "total",
        "import-changed",
    );
    moves(
        &[
            "import math\nfrom math import pi",
            "def total(x):\n    return x + pi",
        ],
        "total",
    );
    // The future import never ran: `clean`'s annotation raised, and stopped its cell.
    stays(
        &[
            "CONF.update(depth=9)\nfrom __future__ import annotations",
            "def clean(x: Undefined):\n    return x\n\ndef register(fn):\n    return fn",
        ],
        "register",
        "after-name-error",
    );
    // The first cell run has no sixth input yet.
    stays(
        &["print(_i6)\ndef f():\n    return 1"],
        "f",
        "after-name-error",
    );
    // The future import comes after `f` in its cell: `f`'s annotation is eager.
    stays(
        &[
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from collections import OrderedDict\n\ndef f(d: OrderedDict = None):\n    return d\n\nfrom __future__ import annotations",
        ],
        "f",
        "maybe-unbound",
    );
    // `mean` comes from the second star import, after the call, which raised: the cell
    // stopped there, and the star import never ran.
    stays(
        &[
            "from os.path import *\n\ndef scale(x):\n    return mean([x, 2])\n\nscale(1)\n\nfrom statistics import *",
        ],
        "scale",
        "never-bound",
    );
    stays(
        &[
            "from os.path import *\n\ndef scale(x):\n    return mean([x, 2])",
            "try:\n    scale(1)\nexcept NameError:\n    pass",
            "from statistics import *",
        ],
        "scale",
        "used-too-early",
    );
    // `clean`'s cache has two entries by the time `total` is defined.
    let cached = "def clean(x, cache={}):\n    cache[x] = cache.get(x, 0) + 1\n    return cache[x]";
    stays(
        &[
            cached,
            "print(clean(1))",
            "def total(x, k=clean(1)):\n    return [x, k]",
        ],
        "total",
        "definition-time-state",
    );
    moves(
        &[
            cached,
            "def total(x, k=clean(1)):\n    return [x, k]",
            "print(clean(1))",
        ],
        "total",
    );
    // `_1` exists only if the first cell showed a value; this one shows none.
    stays(
        &["x = 1", "print(_1)\ndef f():\n    return 1"],
        "f",
        "after-name-error",
    );
    // The second `scale` raised while being defined: `run(scale)` runs the first, which
    // needs `f` before cell 5 binds it.
    stays(
        &[
            "def scale(x):\n    return f(x) + 1",
            "def scale(x: Undefined):\n    return x",
            "def run(fn):\n    return fn(2)",
            "run(scale)",
            "def f(x):\n    return x",
        ],
        "f",
        "used-too-early",
    );
    // `del g` raises when `g` is unbound.
    stays(&["del g\ndef f():\n    return 1"], "f", "after-name-error");
    // `x += 1` reads `x` before it binds it.
    stays(&["x += 1\ndef g():\n    return 2"], "g", "after-name-error");
    // A `del` unbinds.
    stays(
        &["x = 1", "del x", "print(x)\ndef g():\n    return 2"],
        "g",
        "after-name-error",
    );
    // A constant whose value reads a name bound later raised `NameError`: a variable.
    stays(
        &[
            "SEPARATORS = ['-', os.sep]",
            "import os",
            "def split(s):\n    return s.split(SEPARATORS[1])",
        ],
        "split",
        "reads-variable",
    );
    stays(
        &[
            "LIMIT = 3",
            "def clip(x, top=LIMIT(1)):\n    return min(x, top)",
        ],
        "clip",
        "calls-constant",
    );
}

#[test]
fn copies_of_a_definition_are_one_only_when_nothing_can_tell_them_apart() {
    let plain = "def double(x):\n    return x * 2";
    moves(&[plain, "print(double(2))", plain], "double");
    let stateful = "def seen(x, acc=[]):\n    acc.append(x)\n    return len(acc)";
    stays(
        &[stateful, "print(seen(1))", stateful],
        "seen",
        "defined-again",
    );
    stays(
        &[plain, "first = double", plain, "print(first is double)"],
        "double",
        "defined-again",
    );
    let class = "class Point:\n    pass";
    stays(&[class, class], "Point", "defined-again");
}

#[test]
fn defining_must_not_change_what_notebook_code_reads_before() {
    let cells = [
        "REGISTRY = {}\n\ndef register(fn):\n    REGISTRY[fn.__name__] = fn\n    return fn",
        "print(sorted(REGISTRY))",
        "@register\ndef double(x):\n    return x * 2",
    ];
    stays(&cells, "double", "changes-while-defined");
    let cells = [
        "REGISTRY = {}\n\ndef register(fn):\n    REGISTRY[fn.__name__] = fn\n    return fn",
        "@register\ndef double(x):\n    return x * 2",
        "print(sorted(REGISTRY))",
    ];
    moves(&cells, "double");
}

#[test]
fn code_that_binds_names_dynamically_is_followed() {
    stays(
        &[
            "RATE = 0.05",
            "def rate():\n    return RATE",
            "exec('RATE = 0.5')",
        ],
        "rate",
        "reads-variable",
    );
    stays(
        &["def rate():\n    return 1", "exec(code)"],
        "rate",
        "dynamic-may-rebind",
    );
    stays(
        &["def rate():\n    return 1", "globals()['rate'] = None"],
        "rate",
        "dynamic-may-rebind",
    );
}

#[test]
fn a_standard_library_star_import_binds_only_what_it_exports() {
    stays(
        &[
            "from math import *",
            "@register\ndef double(x):\n    return x * 2",
        ],
        "double",
        "undefined",
    );
    moves(
        &["from math import *", "def root(x):\n    return sqrt(x)"],
        "root",
    );
}

#[test]
fn eager_annotations_stay_when_postponed_ones_move() {
    let cells = [
        "def early(x: int) -> int:\n    return x",
        "from __future__ import annotations",
        "def late(x: int) -> int:\n    return x",
    ];
    stays(&cells, "early", "eager-annotations");
    moves(&cells, "late");
}

#[test]
fn the_import_cell_comes_after_setup() {
    let cells = [
        "import os",
        "def before():\n    return os.sep",
        "import sys\nsys.path.append('..')\nimport helpers",
        "def after():\n    return helpers.x",
    ];
    stays(&cells, "before", "setup-comes-later");
    moves(&cells, "after");
    // In the setup cell itself: never "comes before" its own cell.
    let cells = [
        "import os",
        "def seed_all():\n    return 1\n\nos.environ['X'] = '1'",
        "import thing",
        "def uses_thing():\n    return thing.x",
    ];
    let verdict = verdict_of(&cells, "seed_all");
    assert!(
        verdict.starts_with("stay (in-setup-cell) is in cell 2, which also installs"),
        "{verdict}"
    );
    // A constant from before the setup would be bound too late.
    let cells = [
        "LOC = 'data.csv'",
        "!pip install thing",
        "import thing",
        "def load():\n    return thing.read(LOC)",
    ];
    stays(&cells, "load", "constant-before-setup");
}

#[test]
fn the_package_is_imported_before_the_working_directory_changes() {
    let cells = [
        "import os",
        "def f():\n    return os.sep",
        "%cd data",
        "import helpers",
        "def g():\n    return helpers.x",
    ];
    moves(&cells, "f");
    stays(&cells, "g", "import-after-chdir");
}

#[test]
fn nothing_moves_before_a_read_of_numbered_history() {
    let cells = [
        "def f():\n    return 1",
        "x = 1\nx",
        "print(Out[2])",
        "def g():\n    return 2",
    ];
    stays(&cells, "f", "before-history");
    moves(&cells, "g");
}

#[test]
fn cutting_never_leaves_a_line_ipython_reads_as_a_magic() {
    stays(
        &["def helper():\n    return 1\n\nrun(helper)"],
        "helper",
        "leaves-magic-line",
    );
    // When `run` is a defined name, the line stays Python.
    moves(
        &[
            "def run(f):\n    return f()",
            "def helper():\n    return 1\n\nrun(helper)",
        ],
        "helper",
    );
}

#[test]
fn a_notebook_already_extracted_adds_to_its_module() {
    // Without the module, a name the notebook imports from it is not there to use.
    stays(
        &["from pkg.nb import g", "def f():\n    return g()"],
        "f",
        "not-in-module",
    );
    let merged = |cells: &[&str], owned: &[&str], force: bool| {
        rerun_verdicts(cells, "def g():\n    return 1\n", owned, force)
    };
    assert_eq!(
        merged(
            &["from pkg.nb import g", "def f():\n    return g()"],
            &[],
            false
        ),
        ["f: move (new)"]
    );
    // A new version of a name the module has: an update when nbhoist wrote the module's, a
    // conflict when a person changed it, unless forced.
    let update = ["from pkg.nb import g", "def g():\n    return 2"];
    assert_eq!(merged(&update, &["g"], false), ["g: move (Update)"]);
    assert_eq!(
        merged(&update, &[], false),
        ["g: stay (conflict) differs from the version in `pkg.nb`, which was changed by hand"]
    );
    assert_eq!(merged(&update, &[], true), ["g: move (Forced)"]);
    assert_eq!(
        merged(&["def g():\n    return 1"], &[], false),
        ["g: move (Same)"]
    );
    // Cells between the import and the new version use the module's.
    let used = ["from pkg.nb import g", "g()", "def g():\n    return 2"];
    assert!(merged(&used, &["g"], false)[0].starts_with("g: stay (used-before-update)"));
    // Code in the module that uses it would change with it.
    let with_user = "def g():\n    return 1\n\n\ndef h():\n    return g()\n";
    assert_eq!(
        rerun_verdicts(&["def g():\n    return 2"], with_user, &["g"], false),
        ["g: stay (used-in-module) is used by `h` in `pkg.nb`, which would change with it"]
    );
    // The module is imported where an earlier run put the import: code above it stays.
    assert_eq!(
        merged(
            &["def f():\n    return 1", "from pkg.nb import g"],
            &[],
            false
        ),
        ["f: stay (before-import-cell) comes before cell 2, which imports the notebook's module"]
    );
    // A copy pasted back under the import is one binding with it: what calls it moves too.
    let pasted = [
        "from pkg.nb import g",
        "def g():\n    return 1",
        "def f():\n    return g()",
    ];
    assert_eq!(
        merged(&pasted, &["g"], false),
        ["g: move (Same)", "f: move (new)"]
    );
    // A use through a call of a notebook function counts, as a mention does.
    let through = [
        "def h(x):\n    return g() + x",
        "from pkg.nb import g",
        "h(1)",
        "def g():\n    return 2",
    ];
    assert!(merged(&through, &["g"], false)[1].starts_with("g: stay (used-before-update)"));
    let after = [
        "def h(x):\n    return g() + x",
        "from pkg.nb import g",
        "def g():\n    return 2",
        "h(1)",
    ];
    assert_eq!(merged(&after, &["g"], false)[1], "g: move (Update)");
    // Nothing joins an import its cell never reaches.
    assert_eq!(
        merged(
            &[
                "print(undefined)\nfrom pkg.nb import g",
                "def f():\n    return g()"
            ],
            &["g"],
            false
        ),
        [
            "f: stay (import-cell-stops) would join the import of the notebook's module in cell 1, but that cell stops with an error before the import (or may)"
        ]
    );
    assert_eq!(
        merged(
            &["print(1)\nfrom pkg.nb import g", "def f():\n    return g()"],
            &["g"],
            false
        ),
        ["f: move (new)"]
    );
    // Module code that does not move runs at the import, on what the notebook now shares.
    let shared = "SEEN = []\n\n\nclass Base:\n    seen = SEEN.append(1)\n";
    assert!(
        rerun_verdicts(
            &["def f():\n    return SEEN", "SEEN = []"],
            shared,
            &["SEEN", "Base"],
            false
        )[0]
        .starts_with("f: stay (depends-on)")
    );
    assert_eq!(
        rerun_verdicts(
            &["def f():\n    return SEEN", "SEEN = []"],
            "SEEN = []\n",
            &["SEEN"],
            false
        ),
        ["f: move (new)"]
    );
}

/// The verdicts of a notebook whose module `pkg.nb` exists with `module` as its text, of which
/// nbhoist wrote the statements binding `owned`: `name: move (merge)` or `name: stay ...`.
fn rerun_verdicts(cells: &[&str], module: &str, owned: &[&str], force: bool) -> Vec<String> {
    use crate::ownership::{ExistingModule, ModuleRecord, Record, fingerprint};
    let bare = ExistingModule::read(module, None).expect("the module parses");
    let mut record = ModuleRecord::default();
    for stmt in &bare.statements {
        if owned.contains(&stmt.names[0].as_str()) {
            let fingerprint = fingerprint(bare.text_of(stmt));
            record.definitions.insert(
                stmt.names[0].clone(),
                Record {
                    cell: None,
                    fingerprint,
                },
            );
        }
    }
    let existing = ExistingModule::read(module, Some(&record));
    let notebook = code_notebook(cells);
    let analysis = analyse(&notebook);
    let target = Target {
        module: "nb",
        dotted: Some("pkg.nb"),
        existing: existing.as_ref(),
        force,
        ..Target::default()
    };
    let decisions = decide(&notebook, &analysis, target);
    described(&analysis, &decisions, false)
        .into_iter()
        .zip(&analysis.definitions)
        .map(|(line, definition)| match line.strip_suffix(": move") {
            Some(name) => match decisions.merges.get(&definition.name) {
                Some(merge) => format!("{name}: move ({merge:?})"),
                None => format!("{name}: move (new)"),
            },
            None => line,
        })
        .collect()
}

#[test]
fn writefile_cells_have_their_own_rules() {
    let notebook = code_notebook(&[
        "%%writefile helpers.py\ndef greet():\n    return 'hi'",
        "%%writefile config.yml\nkey: value",
        "import helpers",
    ]);
    let analysis = analyse(&notebook);
    let target = Target {
        module: "nb",
        dotted: None,
        runners: None,
        ..Target::default()
    };
    let decisions = decide(&notebook, &analysis, target);
    let stays: Vec<Option<String>> = decisions
        .writefiles
        .verdicts
        .iter()
        .map(|v| v.stay.as_ref().map(ToString::to_string))
        .collect();
    assert_eq!(
        stays,
        [
            None,
            Some("writes a file that is not a Python module".to_owned())
        ]
    );
    assert_eq!(decisions.writefiles.modules[0].module, "helpers");
}

#[test]
fn written_modules_keep_their_meaning() {
    let notebook = code_notebook(&[
        "%%writefile logs.py\nimport logging\nlog = logging.getLogger(__name__)",
        "%%writefile noisy.py\nprint('loaded')\n\ndef f():\n    return 1",
        "import logs\nimport noisy",
        "def g():\n    return noisy.f()",
    ]);
    let analysis = analyse(&notebook);
    let target = Target {
        module: "nb",
        dotted: None,
        runners: None,
        ..Target::default()
    };
    let decisions = decide(&notebook, &analysis, target);
    let stay = decisions.writefiles.verdicts[0].stay.as_ref().unwrap();
    assert!(stay.to_string().contains("`__name__`"), "{stay}");
    assert!(decisions.writefiles.verdicts[1].stay.is_none());
    let Verdict::Stay(reason) = &decisions.verdicts[0] else {
        panic!("g moves");
    };
    assert_eq!(reason.code(), "import-runs-code");
}

/// The `%%writefile` verdicts of a notebook of these code cells.
fn writefile_verdicts(cells: &[&str]) -> Vec<writefile::WriteFileVerdict> {
    let notebook = code_notebook(cells);
    let analysis = analyse(&notebook);
    let target = Target {
        module: "nb",
        dotted: None,
        runners: None,
        ..Target::default()
    };
    decide(&notebook, &analysis, target).writefiles.verdicts
}

/// The first found by the `extract_plan` fuzz target: `%%writefile pkg.py` of `#(` and a NUL,
/// which the parser takes as a comment and CPython refuses to compile.
#[test]
fn no_written_module_is_one_that_python_does_not_compile() {
    let stays: Vec<String> = writefile_verdicts(&[
        "%%writefile pkg.py\n#(\0",
        "%%writefile twice.py\ndef f(a, a):\n    return a",
        "%%writefile waits.py\nimport asyncio\nx = await asyncio.sleep(0)",
        "%%writefile ends.py\nx = 1\nreturn x",
        "%%writefile fine.py\nasync def f():\n    await g()",
    ])
    .iter()
    .map(|verdict| {
        verdict
            .stay
            .as_ref()
            .map_or("moves".to_owned(), ToString::to_string)
    })
    .collect();
    assert_eq!(
        stays,
        [
            "its content has a syntax error (line 1: source code string cannot contain null bytes)",
            "its content has a syntax error (line 1: Duplicate parameter \"a\")",
            "its content has a syntax error (line 2: `await` statement outside of a function)",
            "its content has a syntax error (line 2: `return` statement outside of a function)",
            "moves",
        ]
    );
}

#[test]
fn no_written_module_goes_from_before_a_history_read() {
    let verdicts = writefile_verdicts;
    let helpers = "%%writefile helpers.py\ndef greet():\n    return 'hi'";
    let stays = verdicts(&[helpers, "print(len(In))"]);
    let stay = stays[0].stay.as_ref().expect("it stays");
    assert!(stay.to_string().contains("history"), "{stay}");
    assert!(verdicts(&["print(len(In))", helpers])[0].stay.is_none());
}

#[test]
fn no_written_module_is_imported_from_the_package_before_setup() {
    let verdicts = writefile_verdicts;
    let util = "%%writefile util.py\ndef f():\n    return 1";
    let early = verdicts(&[
        util,
        "import util\nimport sys\nsys.path.insert(0, 'lib')\nimport libmod",
        "def g():\n    return libmod.quad(2)",
    ]);
    let stay = early[0].stay.as_ref().expect("it stays");
    assert!(stay.to_string().contains("sets up"), "{stay}");
    let late = verdicts(&[
        util,
        "import sys\nsys.path.insert(0, 'lib')\nimport libmod",
        "import util",
        "def g():\n    return libmod.quad(2)",
    ]);
    assert!(late[0].stay.is_none());
}

#[test]
fn package_names_are_checked() {
    let notebook = code_notebook(&["import helpers"]);
    let analysis = analyse(&notebook);
    let check = |name: &str, own: bool| {
        check_package_name(name)
            .and_then(|()| check_package_imports(name, &analysis, own))
            .map_err(|error| error.to_string())
    };
    assert!(check("mylib", false).is_ok());
    assert!(
        check("test", false)
            .unwrap_err()
            .contains("standard-library")
    );
    assert!(check("class", false).unwrap_err().contains("keyword"));
    assert!(check("my-lib", false).unwrap_err().contains("not a valid"));
    assert!(
        check("json", false)
            .unwrap_err()
            .contains("standard-library")
    );
    assert!(
        check("helpers", false)
            .unwrap_err()
            .contains("imports a module")
    );
    assert!(check("helpers", true).is_ok());
}

/// Every decision about a notebook, one line each, for snapshots.
fn describe(notebook: &crate::notebook::Notebook) -> String {
    let analysis = analyse(notebook);
    let target = Target {
        module: "nb",
        dotted: None,
        runners: None,
        ..Target::default()
    };
    let decisions = decide(notebook, &analysis, target);
    let mut out = String::new();
    for (definition, verdict) in analysis.definitions.iter().zip(&decisions.verdicts) {
        let cell = definition.cell.number();
        let name = &definition.name;
        match verdict {
            Verdict::Move(needs) => {
                writeln!(out, "cell {cell} {name}: move, needs {:?}", needs.names()).unwrap();
            }
            Verdict::Stay(reason) => {
                let hint = reason.hint().map(|h| format!(" [{h}]")).unwrap_or_default();
                writeln!(
                    out,
                    "cell {cell} {name}: stay ({}) {reason}{hint}",
                    reason.code()
                )
                .unwrap();
            }
        }
    }
    for write in &decisions.writefiles.verdicts {
        let cell = write.cell.number();
        let target = &write.magic.target;
        match &write.stay {
            None => writeln!(out, "cell {cell} %%writefile {target}: move").unwrap(),
            Some(stay) => writeln!(out, "cell {cell} %%writefile {target}: stay, {stay}").unwrap(),
        }
    }
    let moved: Vec<String> = decisions
        .moving
        .items
        .iter()
        .map(|item| format!("{} ({}, cell {})", item.name, item.kind.as_str(), item.cell))
        .collect();
    writeln!(out, "moving: {}", moved.join(", ")).unwrap();
    let imports: Vec<&String> = decisions.moving.imports.iter().collect();
    writeln!(out, "module imports: {imports:?}").unwrap();
    match decisions.import_cell {
        Some(cell) => writeln!(out, "import cell: before cell {}", cell.number()).unwrap(),
        None => writeln!(out, "import cell: none").unwrap(),
    }
    for drop in &decisions.dropped {
        writeln!(
            out,
            "drop cell {} names {:?}: ({}) {}",
            drop.cell,
            drop.names,
            drop.reason.code(),
            drop.reason
        )
        .unwrap();
    }
    out
}

#[test]
fn decisions_about_every_fixture() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    insta::glob!(fixtures, "{scan,behaviour}/*.ipynb", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let notebook = crate::notebook::Notebook::parse(&text).unwrap();
        insta::assert_snapshot!(describe(&notebook));
    });
}

#[test]
fn every_reason_code_has_a_row_in_the_docs() {
    let source = include_str!("reason.rs");
    let codes = source
        .split("fn code(&self)")
        .nth(1)
        .and_then(|rest| rest.split("\n    }\n").next())
        .expect("reason.rs has `fn code`");
    let docs = include_str!("../../docs/verdicts.md");
    let mut count = 0;
    for code in codes.split("=> \"").skip(1) {
        let code = code.split('"').next().unwrap();
        count += 1;
        assert!(
            docs.contains(&format!("| `{code}` |")),
            "docs/verdicts.md has no row for `{code}`"
        );
    }
    assert!(count > 40, "found only {count} codes in reason.rs");
}

#[test]
fn definitions_written_as_assignments_travel_like_constants() {
    let uses = |setup: &str, body: &str| {
        vec![
            "import re\nimport random\nfrom collections import namedtuple\nfrom typing import Optional\nfrom operator import add".to_owned(),
            setup.to_owned(),
            format!("def f(x):\n    return {body}"),
        ]
    };
    let moves_with = |setup: &str, body: &str, name: &str| {
        let cells = uses(setup, body);
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        assert!(needs(&cells, "f").constants.contains(name), "{setup}");
    };
    moves_with("Point = tuple[int, int]", "Point", "Point");
    moves_with("Maybe = Optional[int]", "Maybe", "Maybe");
    moves_with("Tree = int | list['Tree']", "Tree", "Tree");
    moves_with("WORD = re.compile(r'\\w+')", "WORD.findall(x)", "WORD");
    moves_with("Pair = namedtuple('Pair', 'a b')", "Pair(x, x)", "Pair");
    moves_with("STOP = frozenset({'a'})", "x in STOP", "STOP");
    moves_with("cat = ''.join", "cat(x)", "cat");
    moves_with("OPS = {'+': add}", "OPS['+'](x, x)", "OPS");
    moves_with("square = lambda v, p=2: v ** p", "square(x)", "square");
    // A lambda's body is resolved like a function body's.
    moves_with("half = lambda v: add(v, 0) / 2", "half(x)", "half");

    let stays_for = |setup: &str, body: &str, code: &str| {
        let cells = uses(setup, body);
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        stays(&cells, "f", code);
    };
    stays_for("RNG = random.Random(7)", "RNG.random()", "reads-variable");
    stays_for("WORDS = sorted(['b', 'a'])", "WORDS", "reads-variable");
    stays_for("WORD = re.compile(input())", "WORD", "reads-variable");
    stays_for(
        "n = len('ab')\nscaled = lambda v: v * n",
        "scaled(x)",
        "depends-on",
    );
    stays_for(
        "words = 'a b'.split()\ncount = words.count",
        "count(x)",
        "reads-variable",
    );
    // Attributes of a class may be computed by its code.
    stays(
        &["class C:\n    x = 1", "X = C.x", "def f():\n    return X"],
        "f",
        "reads-variable",
    );
    // A container of a function that stays.
    stays(
        &[
            "n = len('ab')",
            "def g():\n    return n",
            "HANDLERS = [g]",
            "def f():\n    return HANDLERS",
        ],
        "f",
        "depends-on",
    );
    // A lambda used before what its body reads is bound raised `NameError` there.
    stays(
        &[
            "sq = lambda v: floor(v)",
            "def f(x):\n    return sq(x)",
            "sq(2)",
            "from math import floor",
        ],
        "f",
        "used-too-early",
    );
    // A builtin a later cell rebinds is not a constant's to take.
    stays(
        &["K = tuple", "def f():\n    return K", "tuple = list"],
        "f",
        "reads-variable",
    );
}

#[test]
fn postponed_annotations_are_not_read_when_defined() {
    let future = "from __future__ import annotations";
    let postponed = [future, "def f(rows: Iterable[Row]) -> int:\n    return 1"];
    let needs = needs(&postponed, "f");
    assert_eq!(
        needs.undefined_in_annotations,
        BTreeSet::from(["Iterable".to_owned(), "Row".to_owned()])
    );
    assert!(needs.future_annotations);
    // What can travel travels, for type checkers.
    assert_eq!(
        needs_of(
            &[
                future,
                "from typing import Iterable",
                "def f(rows: Iterable) -> int:\n    return 1"
            ],
            "f"
        ),
        ["Iterable"]
    );
    // A notebook variable would be found by `get_type_hints` in the notebook only.
    stays(
        &[
            future,
            "Schema = type('S', (), {})",
            "def f(x: Schema):\n    return x",
        ],
        "f",
        "reads-variable",
    );
    // Evaluated when defined, without the future import: `NameError`.
    stays(&["def f(rows: Iterable):\n    return 1"], "f", "undefined");
}

#[test]
fn evaluating_annotations_reads_what_they_name() {
    stays(
        &[
            "import typing\n\ndef f(x: 'Point'):\n    return x\n\ntry:\n    print(typing.get_type_hints(f))\nexcept NameError as e:\n    print('unresolved:', e)",
            "class Point:\n    pass",
        ],
        "Point",
        "used-too-early",
    );
}

/// The verdicts of a notebook whose `%run` lines bind what `runs` says, by the index of the
/// line among the notebook's `%run` lines, and whose runners bind `runners`.
fn run_verdicts(cells: &[&str], runs: &[RunEffect], runners: Option<&Runners>) -> Vec<String> {
    let notebook = code_notebook(cells);
    let lines = analyse(&notebook).runs;
    let effects: crate::analysis::RunEffects = lines
        .iter()
        .zip(runs)
        .map(|(line, effect)| (line.at, effect.clone()))
        .collect();
    let analysis = crate::analysis::analyse_with_runs(&notebook, &effects);
    let target = Target {
        module: "nb",
        dotted: Some("pkg.nb"),
        runners,
        ..Target::default()
    };
    let decisions = decide(&notebook, &analysis, target);
    described(&analysis, &decisions, true)
}

#[test]
fn names_bound_by_run_travel_as_the_other_file_binds_them() {
    use crate::analysis::{RunBinding, RunImport, RunPlace};
    let effect = RunEffect::Binds(vec![
        (
            "st".to_owned(),
            RunBinding::Import(RunImport::Module {
                module: "statistics".into(),
                alias: Some("st".into()),
            }),
        ),
        (
            "dist".to_owned(),
            RunBinding::Hoisted(RunImport::From {
                module: "pkg.helpers".into(),
                member: "dist".into(),
                alias: None,
            }),
        ),
        (
            "grid".to_owned(),
            RunBinding::Variable {
                file: "helpers.ipynb".into(),
                place: RunPlace::Cell(crate::position::CellNumber(3)),
            },
        ),
    ]);
    let cells = [
        "%run helpers.ipynb",
        "def spread(xs):\n    return st.pstdev(xs)",
        "def near(p, q):\n    return dist(p, q) < 1",
        "def first(n):\n    return grid[:n]",
    ];
    assert_eq!(
        run_verdicts(&cells, &[effect], None),
        [
            "spread: move [\"st\"]",
            "near: move [\"dist\"]",
            "first: stay (run-variable) reads `grid`, computed in helpers.ipynb cell 3",
        ]
    );
}

#[test]
fn a_run_nbhoist_cannot_follow_binds_unknown_names() {
    let missing = RunEffect::Unknown(crate::analysis::Unfollowed::Missing("h.ipynb".into()));
    let verdicts = run_verdicts(
        &[
            "import os",
            "%run h.ipynb",
            "def greet():\n    return shout()",
            "def here():\n    return os.getcwd()",
            "def add(a, b):\n    return a + b",
        ],
        &[missing],
        None,
    );
    assert_eq!(
        verdicts,
        [
            "greet: stay (run-unknown) reads `shout`, which the `%run` of cell 2 may bind, though nbhoist cannot tell: h.ipynb does not exist",
            "here: stay (run-unknown) reads `os`, which the `%run` of cell 2 may bind, though nbhoist cannot tell: h.ipynb does not exist",
            "add: move []",
        ]
    );
    // Without the file read (or with options), the same: the line binds unknown names.
    stays(
        &["%run -i h.py", "def greet():\n    return shout()"],
        "greet",
        "run-unknown",
    );
    stays(
        &["def add(a, b):\n    return a + b", "%run -i h.py"],
        "add",
        "run-may-rebind",
    );
}

#[test]
fn a_helper_definition_stays_when_its_runner_binds_what_it_needs() {
    let mut runners = Runners::default();
    runners.rebound.insert(
        "unit".to_owned(),
        ("main.ipynb".to_owned(), crate::position::CellNumber(2)),
    );
    let verdicts = run_verdicts(
        &[
            "def unit():\n    return 'm'",
            "def length(x):\n    return f'{x} {unit()}'",
            "def area(x):\n    return x * x",
        ],
        &[],
        Some(&runners),
    );
    assert!(
        verdicts[0].starts_with("unit: stay (bound-by-runner) has a name, `unit`"),
        "{verdicts:?}"
    );
    assert!(
        verdicts[1].starts_with("length: stay (depends-on)"),
        "{verdicts:?}"
    );
    assert_eq!(verdicts[2], "area: move []");
    runners.rebound.clear();
    runners.any = Some(("main.ipynb".to_owned(), crate::position::CellNumber(4)));
    let verdicts = run_verdicts(&["def area(x):\n    return x * x"], &[], Some(&runners));
    assert!(
        verdicts[0].starts_with("area: stay (bound-by-runner)"),
        "{verdicts:?}"
    );
}

#[test]
fn a_default_that_imports_a_module_that_prints_keeps_its_definition() {
    let cells = [
        "%%writefile util.py\nprint('importing util')\n\ndef greet(x):\n    return x",
        "def total(x):\n    import util\n    return util.greet(x)\n\nprint(total(2))\n\ndef g(x, k=total(1)):\n    return [x, k]",
    ];
    moves(&cells, "total");
    stays(&cells, "g", "import-runs-code");
    // A quiet module may be imported at the import cell.
    let quiet = [
        "%%writefile util.py\ndef greet(x):\n    return x",
        "def total(x):\n    import util\n    return util.greet(x)\n\ndef g(x, k=total(1)):\n    return [x, k]",
    ];
    moves(&quiet, "g");
}
