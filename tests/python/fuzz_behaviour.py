#!/usr/bin/env python3
"""Differential behaviour fuzzer for ``nbhoist extract``.

Usage: target/test-venv/bin/python tests/python/fuzz_behaviour.py [N] [--seed S]
           --nbhoist PATH [--jobs J] [--out DIR] [--max-shrink K] [--rerun]

nbhoist promises that the rewritten notebook, run top to bottom, prints, displays and raises
exactly what the original did, and that the package it writes compiles and imports. This script
checks that promise on random notebooks:

1. A seeded grammar of tricky notebook patterns (constants and their mutations, decorators,
   default values, class bodies, metaclasses, shadowed builtins, star imports, ``%%writefile``
   modules, magics, history reads, ``os.chdir``, type aliases, constructor calls, lambdas,
   postponed annotations, ...) builds notebook ``n`` of seed ``S``; the same ``(S, n)`` always
   gives the same notebook.
2. The notebook runs in IPython (``run_notebook.py``) in a folder of its own; ``nbhoist extract
   NB --package hoisted`` rewrites a second copy, which then runs too. What each cell prints,
   displays and raises must be the same, in order (cell numbers aside; the "Writing x.py" of a
   ``%%writefile`` cell that became a module is left out, as in ``tests/behaviour.rs``).
3. Every module nbhoist wrote must compile, and import (in the state the rewritten notebook
   leaves: its working folder, its ``sys.path``, the files it wrote); a second ``extract`` must
   change nothing; ``extract`` must exit 0.

A failing notebook is shrunk (cells, then blocks of statements, then lines; deterministic) to a
small notebook that still fails the same way, and saved as ``OUT/fuzz_<seed>_<n>.ipynb`` with
a ``.txt`` that describes the difference.

With ``--rerun``, each extracted notebook is then changed as people change notebooks and
packages, and extracted again (``fuzz_rerun.py``).

Speed: each worker process imports IPython once and runs every notebook in a child it forks,
so each run gets a fresh interpreter state (``sys.modules``, ``random``, cwd, module attributes)
for ~50 ms instead of a ~0.5 s interpreter start.

Determinism of the runs (see ``docs/fuzzing.md``): workers run with ``PYTHONHASHSEED=0`` and no
bytecode files; ``random`` is seeded before each run; the import system's directory caches are
invalidated before each cell and a ``.py`` file a cell writes gets a modification time of its
own (one step per cell), as if cells ran seconds apart. Event texts are normalised: the
notebook's folder becomes ``<folder>``, ``0x...`` addresses ``0x?``, ``%time`` figures ``?``,
and ``hoisted.<module>.`` in reprs ``__main__.`` (moved classes belong to the package; this is
documented in docs/verdicts.md).
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PACKAGE = "hoisted"
NOTEBOOK = "nb.ipynb"
RUN_TIMEOUT = 30.0
EXTRACT_TIMEOUT = 60.0

# ─────────────────────────────────────────────────────────────────────────────── grammar ──

# Small pools, so that names collide, get redefined and shadow each other often.
FUNCS = ["f", "g", "clean", "total", "scale", "mean", "tools"]
READERS = ["show", "label", "parse", "check", "kind_of"]  # functions that read assigned definitions
CONSTS = ["RATE", "COLS", "CONF", "LIMIT"]
CLASSES = ["Base", "Model", "Point"]
MODULES = ["tools", "util"]
BUILTINS = ["max", "min", "sum", "len", "sorted", "round", "abs"]

CONST_VALUES = {
    # name: [(value source, needed import or None, is a literal constant)]
    "RATE": [("0.05", None), ("0.25", None), ("1 / 8", None)],
    "COLS": [("['a', 'b']", None), ("['x', 'y', 'z']", None), ("['a'] + [os.sep]", "import os"),
             ("list('ab')", None)],
    "CONF": [("{'k': 1, 'depth': 2}", None), ("{'k': 3}", None),
             ("dict(k=2, depth=4)", None)],
    "LIMIT": [("10", None), ("RATE * 100", None), ("len(COLS) + 1", None),
              ("math.pi * 2", "import math"), ("2 ** 5", None)],
}

CONST_MUTATIONS = {
    "RATE": ["RATE = 0.07", "RATE += 0.01", "RATE = RATE * 2"],
    "COLS": ["COLS.append('c')", "COLS += ['z']", "COLS[0] = 'q'", "COLS.sort(reverse=True)"],
    "CONF": ["CONF['k'] = 5", "CONF.update(depth=9)", "CONF.pop('k', None)"],
    "LIMIT": ["LIMIT = 3", "LIMIT -= 1"],
}

CONST_READS = {
    "RATE": ["print(RATE)", "print(round(RATE * 3, 4))", "RATE"],
    "COLS": ["print(COLS)", "print(len(COLS))", "COLS"],
    "CONF": ["print(CONF)", "print(CONF.get('k'))", "CONF"],
    "LIMIT": ["print(LIMIT)", "LIMIT"],
}

# Bodies of one-argument functions: (code, imports needed, constants needed, uses other function).
FUNCTION_BODIES = [
    ("return round(x * RATE, 4)", [], ["RATE"], False),
    ("return [c * x for c in COLS]", [], ["COLS"], False),
    ("return CONF.get('k', 0) + x", [], ["CONF"], False),
    ("return max([x, 3, 7]) + min(x, 2)", [], [], False),
    ("return sum(range(x)) + len(COLS)", [], ["COLS"], False),
    ("return sorted([x, 1, 5], reverse=True)", [], [], False),
    ("return abs(x - 10) + round(2.5)", [], [], False),
    ("return math.sqrt(x * x) + math.floor(2.5)", ["import math"], [], False),
    ("return re.sub(r'[aeiou]', '', 'banana' * x)", ["import re"], [], False),
    ("return json.dumps({'x': x, 'limit': LIMIT}, sort_keys=True)", ["import json"],
     ["LIMIT"], False),
    ("return Counter('abracadabra').most_common(x)", ["from collections import Counter"], [],
     False),
    ("return statistics.mean([x, 2, 4])", ["import statistics"], [], False),
    ("return mean([x, 2, 4])", [], [], False),
    ("return functools.reduce(lambda a, b: a * b, range(1, x + 2))", ["import functools"], [],
     False),
    ("return round(sqrt(x) + pi, 4)", ["from math import sqrt, pi"], [], False),
    ("return os.path.join('a', str(x))", ["import os"], [], False),
    ("return string.punctuation[:x]", ["import string"], [], False),
    ("return round(math.pi * x, 3)", ["import math"], [], False),
    ("return LIMIT - x", [], ["LIMIT"], False),
    ("return OTHER(x) + 1", [], [], True),
    ("y = OTHER(x)\n    return [y, x]", [], [], True),
    ("return str(x) * 2", [], [], False),
    ("return {'x': x, 'double': 2 * x}", [], [], False),
    ("return textwrap.shorten('lorem ipsum dolor sit amet', width=10 + x)",
     ["import textwrap"], [], False),
]

# Some bind several names, in the layouts nbhoist cuts single names out of when only moved
# code used them.
PLAIN_IMPORTS = ["import math", "import os", "import re", "import json", "import functools",
                 "import statistics", "import string", "import textwrap",
                 "from collections import Counter", "import re, json",
                 "from math import sqrt, pi", "import sys", "import random",
                 "import math, string, random",
                 "from collections import (\n    Counter,  # counts\n    OrderedDict,\n    deque,\n)",
                 "from math import floor, \\\n    sqrt, pi"]
# The imports of several names above that also bind what a single import binds.
GROUPED_IMPORTS = {
    "import math": PLAIN_IMPORTS[-3], "import string": PLAIN_IMPORTS[-3],
    "import random": PLAIN_IMPORTS[-3], "from collections import Counter": PLAIN_IMPORTS[-2],
    "from math import sqrt, pi": PLAIN_IMPORTS[-1],
}

WRITEFILE_CONTENTS = [
    "def greet(x):\n    return 'hi %s' % x\n",
    "print('importing {mod}')\n\n\ndef greet(x):\n    return 'hello %s' % x\n",
    ("import logging\n\nlog = logging.getLogger(__name__)\n\n\ndef greet(x):\n"
     "    log.warning('greeting %s', x)\n    return log.name + ':' + str(x)\n"),
    "def greet(x):\n    return __name__ + '/' + str(x)\n",
    "VALUE = 3\n\n\ndef greet(x):\n    return VALUE * x\n",
    "from {other} import greet as other_greet\n\n\ndef greet(x):\n    return 'via ' + str(other_greet(x))\n",
]

# Definitions written as assignments, which bind a type, a pattern or a function once.
# Type aliases: (name, value, imports). `Grid` reads `Point`, `Tree` itself in a string.
ALIASES = [
    ("Point", "tuple[int, int]", []),
    ("Point", "Tuple[int, int]", ["from typing import Tuple"]),
    ("Grid", "dict[Point, str]", []),
    ("Tree", "int | list['Tree']", []),
    ("Opt", "Optional[int]", ["from typing import Optional"]),
    ("Opt", "typing.Optional[str]", ["import typing"]),
    ("Opt", "t.Union[int, None]", ["import typing as t"]),
    ("Meta", "Annotated[str, {'unit': 'm'}]", ["from typing import Annotated"]),
    ("Num", "Union[int, float]", ["from typing import Union"]),
    ("Handler", "Callable[[int], str]", ["from typing import Callable"]),
    ("Handler", "collections.abc.Callable[[int], str]", ["import collections.abc"]),
    ("Rows", "List[Tuple[int, str]]", ["from typing import List, Tuple"]),
    ("Rows", "list[Point]", []),
]

# Calls of pure constructors with constant arguments: (name, value, imports, family).
CONSTRUCTORS = [
    ("Pair", "namedtuple('Pair', ['a', 'b'])", ["from collections import namedtuple"], "tuple"),
    ("Pair", "collections.namedtuple('Pair', 'a b', defaults=[0])", ["import collections"],
     "tuple"),
    ("Pair", "c.namedtuple('Pair', 'a, b')", ["import collections as c"], "tuple"),
    ("Point", "nt('Point', ['a', 'b'])", ["from collections import namedtuple as nt"], "tuple"),
    ("Pair", "NamedTuple('Pair', [('a', int), ('b', int)])", ["from typing import NamedTuple"],
     "tuple"),
    ("Pair", "typing.NamedTuple('Pair', [('a', int), ('b', str)])", ["import typing"], "tuple"),
    ("Movie", "TypedDict('Movie', {'title': str, 'year': int})",
     ["from typing import TypedDict"], "typeddict"),
    ("Movie", "typing.TypedDict('Movie', {'title': str, 'year': int}, total=False)",
     ["import typing"], "typeddict"),
    ("T", "TypeVar('T')", ["from typing import TypeVar"], "typevar"),
    ("T", "TypeVar('T', int, str)", ["from typing import TypeVar"], "typevar"),
    ("T", "typing.TypeVar('T', bound=float)", ["import typing"], "typevar"),
    ("P", "ParamSpec('P')", ["from typing import ParamSpec"], "typevar"),
    ("UserId", "NewType('UserId', int)", ["from typing import NewType"], "newtype"),
    ("UserId", "typing.NewType('UserId', int)", ["import typing"], "newtype"),
    ("Color", "Enum('Color', 'RED GREEN')", ["from enum import Enum"], "enum"),
    ("Color", "enum.Enum('Color', ['RED', 'GREEN', 'BLUE'])", ["import enum"], "enum"),
    ("Color", "IntEnum('Color', 'RED GREEN')", ["from enum import IntEnum"], "enum"),
    ("Color", "enum.Flag('Color', 'RED GREEN')", ["import enum"], "enum"),
    ("Color", "Enum('Color', [('RED', 1), ('GREEN', 2)])", ["from enum import Enum"], "enum"),
    ("VOWELS", "frozenset('aeiou')", [], "set"),
    ("VOWELS", "frozenset(['a', 'e', 'i'])", [], "set"),
    ("PAIR", "tuple('ab')", [], "sequence"),
    ("PAIR", "tuple([1, 2, 3])", [], "sequence"),
    ("WORD", "re.compile(r'\\w+')", ["import re"], "regex"),
    ("WORD", "compile(r'[a-z]+')", ["from re import compile"], "regex"),
    ("WORD", "rx.compile('a+', rx.I)", ["import re as rx"], "regex"),
    ("WORD", "re.compile('b+', flags=re.IGNORECASE)", ["import re"], "regex"),
    ("PRICE", "Decimal('1.10')", ["from decimal import Decimal"], "number"),
    ("PRICE", "decimal.Decimal('0.1')", ["import decimal"], "number"),
    ("HALF", "Fraction(1, 2)", ["from fractions import Fraction"], "number"),
    ("HALF", "fractions.Fraction('3/4')", ["import fractions"], "number"),
    ("HALF", "F(2, 6)", ["from fractions import Fraction as F"], "number"),
]

# How functions (bodies of one argument `x`) and notebook code read a name of each family:
# (body expressions, expressions a cell prints or displays). NAME stands for the name.
FAMILY_USES = {
    "alias": (["repr(NAME) + str(x)", "typing.get_args(NAME)[:x]", "[x, NAME]"],
              ["NAME", "typing.get_args(NAME)", "typing.get_origin(NAME)"]),
    "tuple": (["NAME(x, 2)", "NAME(x, 2)._asdict()", "NAME._fields * x", "NAME(a=x, b=1).a"],
              ["NAME(1, 2)", "NAME", "NAME._fields", "NAME(3, 4)._replace(a=0)"]),
    "typeddict": (["NAME(title=str(x), year=x)", "sorted(NAME.__annotations__)[:x]"],
                  ["NAME(title='a', year=1)", "NAME", "sorted(NAME.__annotations__)"]),
    "typevar": (["NAME.__name__ * x", "repr(NAME) + str(x)"],
                ["NAME", "NAME.__name__", "[NAME]"]),
    "newtype": (["NAME(x) + 1", "NAME.__supertype__(x)"],
                ["NAME(5)", "NAME", "NAME.__supertype__"]),
    "enum": (["NAME(x % 2 + 1).name", "len(NAME) + x", "[c.name for c in NAME][:x]"],
             ["NAME.RED", "list(NAME)", "NAME(2)", "NAME", "NAME['GREEN'].value"]),
    "set": (["sum(c in NAME for c in 'education' * x)", "sorted(NAME)[:x]"],
            ["sorted(NAME)", "len(NAME)", "'e' in NAME", "type(NAME).__name__"]),
    "sequence": (["NAME * x", "NAME[x % 2]"], ["NAME", "len(NAME)", "type(NAME).__name__"]),
    "regex": (["NAME.findall('ab cd ef')[:x]", "NAME.sub('-', 'a b c' * x)"],
              ["NAME", "NAME.pattern", "NAME.findall('Bab aa')"]),
    "number": (["NAME * x", "str(NAME + x)"], ["NAME", "NAME * 3", "repr(NAME)"]),
    "random": (["NAME.randint(0, 10) + x"], ["NAME.random()", "NAME.randint(1, 6)"]),
    "any": (["[x, NAME]", "repr(NAME) * x"], ["NAME", "repr(NAME)"]),
    "callable": (["NAME(x)", "[NAME(x), NAME(1)]"], ["NAME(3)", "NAME", "NAME.__name__"]),
    "operators": (["NAME['+'](x, 1)", "sorted(NAME)[:x]", "NAME['-'](x, 1)"],
                  ["NAME['-'](5, 2)", "sorted(NAME)", "NAME['+'](1, 1)"]),
    "handlers": (["[h(x) for h in NAME]", "len(NAME) + x", "NAME[0](x)"],
                 ["[h.__name__ for h in NAME]", "NAME[0](2)", "len(NAME)"]),
}

# Families whose names are types, which functions also read in annotations.
TYPE_FAMILIES = {"alias", "tuple", "typeddict", "typevar", "newtype", "enum"}

# Attributes of constants: (name, value, body expressions, shown expressions).
BOUND_METHODS = [
    ("cat", "''.join", ["cat([str(x), 'y'])"], ["cat(['a', 'b'])", "cat"]),
    ("cat", "'-'.join", ["cat(['x'] * x)"], ["cat('abc')"]),
    ("upper", "'x'.upper", ["upper() * x"], ["upper()", "upper"]),
    ("fmt", "'{}:{}'.format", ["fmt(x, x * 2)"], ["fmt(1, 2)"]),
    ("lookup", "{'a': 1, 'b': 2}.get", ["lookup('a', 0) + x"],
     ["lookup('b')", "lookup('z', 0)"]),
    ("clean", "' x '.strip", ["clean() * x"], ["clean()"]),
    ("starts", "'abc'.startswith", ["starts('a' * x)"], ["starts('ab')"]),
    ("ratio", "RATE.as_integer_ratio", ["ratio()[0] * x"], ["ratio()"]),
    # A method of a mutable constant, which changes the constant when called.
    ("add_col", "COLS.append", ["add_col(x) or len(COLS)"], ["add_col('w')", "COLS"]),
]

# Lambdas bound once: (value, what it needs). OTHER is a notebook function, `offset` a notebook
# variable, `helper` a function bound later.
LAMBDAS = ["square", "inc", "shift", "square", "inc", "shift", "f", "scale"]
LAMBDA_VALUES = [
    ("lambda x: x * x", None),
    ("lambda x, k=RATE: round(x * k, 4)", "RATE"),
    ("lambda x=LIMIT: x", "LIMIT"),
    ("lambda x: OTHER(x)", "function"),
    ("lambda x: x + offset", "variable"),
    ("lambda s: len(str(s))", "builtin"),
    ("lambda x: helper(x)", "later"),
    ("lambda *args, **kw: (args, sorted(kw))", None),
    ("lambda x: [c for c in COLS][:x]", "COLS"),
]

# Star imports of the standard library, and bodies (of `x`) that read what they bind.
STAR_MODULES = {
    "from math import *": ["round(sqrt(x) + pow(x, 2), 4)", "pow(x, 2)",
                           "floor(x / 2) + len('ab')", "round(e * x, 3)", "len(str(sqrt(x)))"],
    "from typing import *": ["cast(int, x) + 1", "get_args(Optional[int])[:x]",
                             "len(get_type_hints(NamedTuple('A', [('a', int)])))",
                             "Counter('abca').most_common(x)"],
    "from os.path import *": ["join('a', str(x))", "splitext('f.txt')[1] * x",
                              "basename('/a/b' + str(x))", "len(dirname('/a/b')) + x"],
    "from itertools import *": ["list(islice(count(x), 3))", "list(chain([x], repeat(0, 2)))",
                                "list(accumulate(range(x + 1)))",
                                "len(list(product('ab', repeat=x)))"],
    "from statistics import *": ["mean([x, 2, 4])", "median([x, 1])"],
}
# Functions annotated with what a star import binds: (star import, parameters, return
# annotation, returned expression).
STAR_ANNOTATED = [
    ("from typing import *", "x: Optional[int] = None", "List[int]", "[x, len([x])]"),
    ("from typing import *", "x: Union[int, str]", "Tuple[int, ...]", "(x,)"),
    ("from collections.abc import *", "x: Iterable = ()", "Sequence",
     "list(x) if isinstance(x, Iterable) else [x]"),
]


@dataclass
class Block:
    """A piece of a cell: one or a few top-level statements, or a whole magic cell."""

    production: str
    text: str
    solo: bool = False  # must be a cell of its own (cell magics, one-line automagic cells)
    cell: dict | None = None  # a replayed cell's JSON (outputs, metadata, id, type)
    starts_cell: bool = False  # must be the first block of its cell (`from __future__`)


@dataclass
class Notebook:
    cells: list[list[Block]]
    metadata: dict | None = None  # a replayed notebook's metadata

    def doc(self) -> dict[str, Any]:
        return notebook_doc(self.cells, self.metadata)

    def productions(self) -> set[str]:
        return {b.production for cell in self.cells for b in cell}


class Gen:
    """Builds one notebook's blocks; each ``p_*`` method is a grammar production."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.blocks: list[Block] = []
        self.funcs: list[str] = []  # function names defined so far (with repeats)
        self.classes: list[str] = []
        self.consts: list[str] = []
        self.modules: list[str] = []  # %%writefile modules written so far
        self.imports: set[str] = set()
        self.decorators: list[str] = []
        self.assigned: list[str] = []  # names bound by assigned definitions (aliases, ...)

    # ── building blocks ──

    def emit(self, production: str, text: str, solo: bool = False) -> None:
        self.blocks.append(Block(production, text, solo))

    def insert_earlier(self, production: str, text: str) -> None:
        """Insert a block at a random place before the end (reads before a definition)."""
        at = self.rng.randint(0, len(self.blocks))
        self.blocks.insert(at, Block(production, text))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, items):
        return self.rng.choice(items)

    def fresh(self, pool: list[str], used: list[str], p_fresh: float = 0.75) -> str:
        unused = [n for n in pool if n not in used]
        if unused and self.chance(p_fresh):
            return self.pick(unused)
        return self.pick(pool)

    def some_func(self, exclude: str | None = None) -> str:
        """A function name to call: mostly one defined so far, sometimes any from the pool."""
        defined = [n for n in self.funcs if n != exclude]
        if defined and self.chance(0.8):
            return self.pick(defined)
        return self.pick([n for n in FUNCS if n != exclude])

    def need_import(self, stmt: str) -> None:
        if stmt in self.imports:
            return
        if stmt in GROUPED_IMPORTS and self.chance(0.3):
            stmt = GROUPED_IMPORTS[stmt]
        r = self.rng.random()
        if r < 0.8:
            # Mostly near the top, where notebooks keep their imports.
            at = 0 if self.chance(0.6) else self.rng.randint(0, len(self.blocks))
            self.blocks.insert(at, Block("import_plain", stmt))
            self.imports.add(stmt)
        elif r < 0.9:
            self.emit("import_plain", stmt)
            self.imports.add(stmt)

    def need_const(self, name: str) -> None:
        if name in self.consts or not self.chance(0.85):
            return
        value, imp = self.pick(CONST_VALUES[name][:3] if self.chance(0.7) else CONST_VALUES[name])
        if imp:
            self.need_import(imp)
        at = self.rng.randint(0, len(self.blocks))
        self.blocks.insert(at, Block("const_def", f"{name} = {value}"))
        self.consts.append(name)

    def function_body(self, name: str) -> str:
        body, imports, consts, other = self.pick(FUNCTION_BODIES)
        for stmt in imports:
            self.need_import(stmt)
        for c in consts:
            self.need_const(c)
        if other:
            body = body.replace("OTHER", self.some_func(exclude=name))
        return body

    def def_text(self, name: str, params: str = "x", decorators: list[str] = (),
                 body: str | None = None) -> str:
        lines = [f"@{d}" for d in decorators]
        lines.append(f"def {name}({params}):")
        lines.append("    " + (body if body is not None else self.function_body(name)))
        return "\n".join(lines)

    def call_text(self, name: str) -> str:
        arg = self.pick(["2", "3", "1"])
        return self.pick([f"print({name}({arg}))", f"{name}({arg})", f"print({name}({arg}), {name}(1))"])

    # ── imports ──

    def p_import_plain(self) -> None:
        stmt = self.pick(PLAIN_IMPORTS)
        if stmt in self.imports and self.chance(0.8):
            stmt = self.pick(PLAIN_IMPORTS)
        self.imports.add(stmt)
        self.emit("import_plain", stmt)

    def p_import_star(self) -> None:
        stmt = self.pick(["from math import *", "from statistics import *", "from os.path import *"])
        self.imports.add(stmt)
        self.emit("import_star", stmt)

    def p_import_version_block(self) -> None:
        self.emit("import_version_block", self.pick([
            "import sys\nif sys.version_info >= (3, 8):\n    import json\nelse:\n    json = None",
            ("import sys\n\nif sys.version_info >= (3, 8):\n    from functools import reduce\n"
             "else:\n    reduce = None"),
            ("import sys\nif sys.version_info >= (3, 99):\n    import tomllib as textwrap\n"
             "else:\n    import textwrap"),
        ]))
        self.imports.update({"import json", "import textwrap"})

    def p_import_try_block(self) -> None:
        self.emit("import_try_block", self.pick([
            "try:\n    import ujson as json\nexcept ImportError:\n    import json",
            "try:\n    import simplejson as json\nexcept ImportError:\n    json = None",
            "try:\n    from math import sqrt, pi\nexcept ImportError:\n    sqrt = pi = None",
        ]))
        self.imports.update({"import json", "from math import sqrt, pi"})

    def p_import_conditional_on_variable(self) -> None:
        flag = self.pick(["True", "False"])
        self.emit("import_conditional_on_variable",
                  f"DEBUG = {flag}\nif DEBUG:\n    import pprint as pp\nelse:\n    import json as pp")
        name = self.fresh(FUNCS, self.funcs)
        self.emit("fn_plain", self.def_text(name, body="return pp.__name__ + str(x)"))
        self.funcs.append(name)
        if self.chance(0.4):
            self.emit("const_mutate", "DEBUG = not DEBUG")

    def p_import_type_checking(self) -> None:
        self.emit("import_type_checking",
                  "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
                  "    from collections import OrderedDict")
        name = self.fresh(FUNCS, self.funcs)
        ann = self.pick(["'OrderedDict'", "OrderedDict"])
        self.emit("import_type_checking",
                  f"def {name}(x, d: {ann} = None) -> {ann}:\n    return [x, d]")
        self.funcs.append(name)

    # ── constants ──

    def p_const_def(self) -> None:
        name = self.fresh(CONSTS, self.consts)
        value, imp = self.pick(CONST_VALUES[name])
        if imp:
            self.need_import(imp)
        self.emit("const_def", f"{name} = {value}")
        self.consts.append(name)

    def p_const_mutate(self) -> None:
        name = self.pick(self.consts) if self.consts and self.chance(0.85) else self.pick(CONSTS)
        self.emit("const_mutate", self.pick(CONST_MUTATIONS[name]))

    def p_module_attribute_mutate(self) -> None:
        stmt = self.pick(["import string\nstring.punctuation = '!?'", "import math\nmath.pi = 3.0",
                          "import os\nos.sep = '|'"])
        self.emit("module_attribute_mutate", stmt)

    def p_const_read(self) -> None:
        name = self.pick(self.consts) if self.consts and self.chance(0.7) else self.pick(CONSTS)
        self.emit("const_read", self.pick(CONST_READS[name]))

    def p_const_read_before_definition(self) -> None:
        name = self.fresh(CONSTS, self.consts)
        value, _imp = self.pick(CONST_VALUES[name][:3])
        self.insert_earlier("const_read_before_definition", self.pick(CONST_READS[name]))
        self.emit("const_def", f"{name} = {value}")
        self.consts.append(name)

    # ── functions ──

    def p_fn_plain(self) -> None:
        name = self.fresh(FUNCS, self.funcs)
        text = self.def_text(name)
        if self.chance(0.25):
            text = f"# Computes {name}.\n" + text
        self.emit("fn_plain", text)
        self.funcs.append(name)
        if self.chance(0.5):
            self.emit("call", self.call_text(name))

    def p_fn_pair(self) -> None:
        """Two functions in one block, the first calling the second (defined after it)."""
        a = self.fresh(FUNCS, self.funcs)
        b = self.fresh([n for n in FUNCS if n != a], self.funcs)
        self.emit("fn_pair", self.def_text(a, body=f"return {b}(x) * 2") + "\n\n\n"
                  + self.def_text(b))
        self.funcs.extend([a, b])

    def p_fn_calls_later_name(self) -> None:
        name = self.fresh(FUNCS, self.funcs)
        later = self.pick([n for n in FUNCS if n != name])
        self.emit("fn_calls_later_name", self.def_text(name, body=f"return {later}(x) + 1"))
        self.funcs.append(name)
        if self.chance(0.5):
            self.emit("fn_plain", self.def_text(later))
            self.funcs.append(later)
        self.emit("call", self.call_text(name))

    def p_fn_default(self) -> None:
        name = self.fresh(FUNCS, self.funcs)
        variant = self.rng.randrange(6)
        if variant == 0:
            self.need_const("COLS")
            text = self.def_text(name, "x, n=len(COLS)", body="return x + n")
        elif variant == 1:
            self.need_const("RATE")
            text = self.def_text(name, "x, rate=RATE", body="return round(x * rate, 4)")
        elif variant == 2:
            other = self.some_func(exclude=name)
            text = self.def_text(name, f"x, k={other}(1)", body="return [x, k]")
        elif variant == 3:
            self.need_const("COLS")
            text = self.def_text(name, "x, items=COLS", body="return items[:x]")
        elif variant == 4:
            text = self.def_text(name, "x, cache={}",
                                 body="cache[x] = cache.get(x, 0) + 1\n    return cache[x]")
        else:
            counter = "calls"
            self.emit("fn_default", f"{counter} = 0")
            text = self.def_text(name, "x, n=calls", body="return x + n")
            if self.chance(0.6):
                self.emit("const_mutate", "calls = calls + 1")
        self.emit("fn_default", text)
        self.funcs.append(name)
        self.emit("call", self.call_text(name))

    def p_fn_seeded_random(self) -> None:
        self.emit("fn_seeded_random", "import random\nrandom.seed(42)")
        self.imports.add("import random")
        name = self.fresh(FUNCS, self.funcs)
        self.emit("fn_seeded_random", self.def_text(name, "x, noise=random.gauss(0, 1)",
                                                    body="return round(x + noise, 6)"))
        self.funcs.append(name)
        if self.chance(0.6):
            self.emit("fn_seeded_random", "print(round(random.random(), 6))")
        self.emit("call", self.call_text(name))

    def p_fn_redefine_same(self) -> None:
        name = self.pick(FUNCS)
        text = self.def_text(name)
        self.emit("fn_redefine_same", text)
        self.emit("call", self.call_text(name))
        self.emit("fn_redefine_same", text)
        self.funcs.extend([name, name])

    def p_fn_redefine_different(self) -> None:
        name = self.pick(self.funcs) if self.funcs and self.chance(0.7) else self.pick(FUNCS)
        self.emit("fn_redefine_different", self.def_text(name, body="return 'redefined %s' % x"))
        self.funcs.append(name)

    def p_fn_rebound_by_assignment(self) -> None:
        name = self.pick(self.funcs) if self.funcs and self.chance(0.7) else self.pick(FUNCS)
        self.emit("fn_rebound_by_assignment", self.pick([f"{name} = 3", f"{name} = str",
                                                         f"{name} = lambda x: -x"]))

    def p_fn_exit_in_body(self) -> None:
        name = self.fresh(FUNCS, self.funcs)
        exit_call = self.pick(["exit()", "quit()", "exit(1)"])
        self.emit("fn_exit_in_body", self.def_text(
            name, body=f"if x < 0:\n        {exit_call}\n    return x * 2"))
        self.funcs.append(name)
        self.emit("call", self.call_text(name))

    def p_fn_global(self) -> None:
        name = self.fresh(FUNCS, self.funcs)
        self.emit("fn_global", "counter = 0")
        self.emit("fn_global", self.def_text(
            name, body="global counter\n    counter += x\n    return counter"))
        self.funcs.append(name)
        self.emit("call", f"{name}(2)\nprint(counter)")

    def p_fn_exec_eval(self) -> None:
        variant = self.rng.randrange(4)
        if variant == 0:
            name = self.fresh(FUNCS, self.funcs)
            self.emit("fn_exec_eval", self.def_text(name, body="return eval('x + 1')"))
            self.funcs.append(name)
        elif variant == 1:
            name = self.pick(FUNCS)
            self.emit("fn_exec_eval", f"exec('def {name}(x):\\n    return \"from exec\"')")
        elif variant == 2:
            const = self.pick(self.consts or CONSTS)
            self.emit("fn_exec_eval", f"print(eval('{const}'))")
        else:
            const = self.pick(CONSTS)
            self.emit("fn_exec_eval", f"exec(\"{const} = 99\")")
        if self.funcs:
            self.emit("call", self.call_text(self.pick(self.funcs)))

    def p_fn_dunder_name(self) -> None:
        if self.chance(0.5):
            name = self.fresh(FUNCS, self.funcs)
            self.emit("fn_dunder_name", self.def_text(name, body="return __name__ + str(x)"))
            self.funcs.append(name)
            self.emit("call", self.call_text(name))
        else:
            self.emit("fn_dunder_name", self.pick(["print(__name__)",
                                                    "if __name__ == '__main__':\n    print('main')"]))

    def p_fn_automagic(self) -> None:
        """`run(f)` alone in a cell: IPython reads it as `%run (f)` unless `run` is bound."""
        name = self.some_func()
        magic = self.pick(["run", "time", "who"])
        if self.chance(0.6):
            self.emit("fn_automagic", f"def {magic}(fn):\n    return fn(2)")
        self.emit("fn_automagic", f"{magic}({name})", solo=True)

    # ── decorators ──

    def decorator(self) -> str:
        if self.decorators and self.chance(0.7):
            return self.pick(self.decorators)
        variant = self.rng.randrange(5)
        if variant == 0:
            self.emit("decorator_def", "def deco(fn):\n    print('decorating', fn.__name__)\n"
                      "    return fn")
            name = "deco"
        elif variant == 1:
            self.emit("decorator_def", "REGISTRY = {}\n\n\ndef register(fn):\n"
                      "    REGISTRY[fn.__name__] = fn\n    return fn")
            name = "register"
        elif variant == 2:
            self.need_import("import functools")
            self.emit("decorator_def", "def twice(fn):\n    @functools.wraps(fn)\n"
                      "    def wrapper(x):\n        return fn(fn(x))\n    return wrapper")
            name = "twice"
        elif variant == 3:
            self.need_import("import functools")
            return "functools.lru_cache(maxsize=None)"
        else:
            return self.pick(["deco", "register", "twice"])  # maybe never defined
        self.decorators.append(name)
        return name

    def p_fn_decorated(self) -> None:
        deco = self.decorator()
        name = self.fresh(FUNCS, self.funcs)
        # Single-argument bodies only: `twice` calls the function on its own result.
        self.emit("fn_decorated", self.def_text(name, decorators=[deco], body=self.pick([
            "return x * 2", "return x + LIMIT" if "LIMIT" in self.consts else "return x - 1",
            "return abs(x) + 1"])))
        self.funcs.append(name)
        self.emit("call", self.call_text(name))
        if deco == "register" and self.chance(0.7):
            self.emit("read_registry", "print(sorted(REGISTRY))")

    # ── classes ──

    def class_text(self, name: str, bases: str = "", body_lines: list[str] = (),
                   decorators: list[str] = ()) -> str:
        head = f"class {name}({bases}):" if bases else f"class {name}:"
        lines = [f"@{d}" for d in decorators] + [head]
        for line in body_lines:
            lines.append("    " + line)
        lines += ["    def __init__(self, x):", "        self.x = x", "",
                  "    def value(self):", "        return self.x * 2"]
        return "\n".join(lines)

    def p_cls_plain(self) -> None:
        name = self.fresh(CLASSES, self.classes)
        self.emit("cls_plain", self.class_text(name))
        self.classes.append(name)
        self.emit("call", self.pick([f"print({name}(3).value())", f"{name}(2).value()"]))

    def p_cls_body_statements(self) -> None:
        name = self.fresh(CLASSES, self.classes)
        options = ["scale = RATE * 2", "cols = list(COLS)", "size = len(COLS)",
                   "items = [i * i for i in range(3)]", "count = 0",
                   f"print('defining {name}')", "tag = 'plain'", "limit = max(3, 4)"]
        body = self.rng.sample(options, self.rng.randint(1, 3))
        for line in body:
            for c in CONSTS:
                if c in line:
                    self.need_const(c)
        self.emit("cls_body_statements", self.class_text(name, body_lines=body + [""]))
        self.classes.append(name)
        attr = body[0].split(" = ")[0] if " = " in body[0] else "x"
        self.emit("call", self.pick([f"print({name}(1).value())", f"print({name}.{attr})"
                                     if attr != "x" else f"print({name}(4).x)"]))

    def p_cls_base(self) -> None:
        name = self.fresh(CLASSES, self.classes)
        base = self.pick([c for c in CLASSES if c != name])
        sub = self.class_text(name, bases=base) + "\n\n    def more(self):\n" \
                                                  "        return self.value() + 1"
        if self.chance(0.5):
            self.emit("cls_base", self.class_text(base))
            self.emit("cls_base", sub)
        else:
            self.emit("cls_base", sub)
            if self.chance(0.7):
                self.emit("cls_base", self.class_text(base))
        self.classes.extend([base, name])
        self.emit("call", f"print({name}(2).more())")

    def p_cls_metaclass(self) -> None:
        noisy = self.chance(0.5)
        body = ("        print('meta', name)\n" if noisy else
                "        ns.setdefault('tag', name.lower())\n")
        self.emit("cls_metaclass", "class Meta(type):\n    def __new__(mcls, name, bases, ns):\n"
                  + body + "        return super().__new__(mcls, name, bases, ns)")
        name = self.fresh(CLASSES, self.classes)
        self.emit("cls_metaclass", self.class_text(name, bases="metaclass=Meta"))
        self.classes.append(name)
        self.emit("call", f"print({name}(1).value(), getattr({name}, 'tag', None))")

    def p_cls_init_subclass(self) -> None:
        base = self.fresh(CLASSES, self.classes)
        action = self.pick(["kinds.append(cls.__name__)", "print('subclass', cls.__name__)",
                            "SUBCLASSES[cls.__name__] = cls"])
        if action.startswith("SUBCLASSES"):
            self.emit("cls_init_subclass", "SUBCLASSES = {}")
        self.emit("cls_init_subclass", self.class_text(base, body_lines=[
            "kinds = []", "", "def __init_subclass__(cls, **kwargs):",
            "    super().__init_subclass__(**kwargs)",
            "    " + action.replace("kinds", f"{base}.kinds"), ""]))
        sub = self.fresh([c for c in CLASSES if c != base], self.classes)
        self.emit("cls_init_subclass", self.class_text(sub, bases=base))
        self.classes.extend([base, sub])
        self.emit("call", self.pick([f"print({base}.kinds)", f"print({sub}(2).value())",
                                     "print(sorted(SUBCLASSES))" if "SUBCLASSES" in action
                                     else f"print({base}.kinds)"]))

    def p_cls_set_name(self) -> None:
        noisy = self.chance(0.4)
        self.emit("cls_set_name", "SEEN = []")
        record = ("print('field', owner.__name__, name)" if noisy
                  else "SEEN.append(owner.__name__ + '.' + name)")
        self.emit("cls_set_name", "class Field:\n    def __set_name__(self, owner, name):\n"
                  f"        {record}\n\n    def __get__(self, obj, owner=None):\n        return 42")
        name = self.fresh(CLASSES, self.classes)
        self.emit("cls_set_name", self.class_text(name, body_lines=["field = Field()", ""]))
        self.classes.append(name)
        self.emit("call", f"print(SEEN, {name}(1).field)")

    def p_cls_dataclass(self) -> None:
        self.need_import("import dataclasses")
        name = self.fresh(CLASSES, self.classes)
        self.emit("cls_dataclass", f"@dataclasses.dataclass\nclass {name}:\n    x: int = 0\n"
                  "    tags: list = dataclasses.field(default_factory=list)\n\n"
                  "    def value(self):\n        return self.x * 2")
        self.classes.append(name)
        self.emit("call", f"print({name}(3), {name}(3).value())")

    def p_cls_decorated(self) -> None:
        deco = self.decorator()
        if deco.startswith("functools") or deco == "twice":
            deco = "deco" if "deco" in self.decorators else "register"
        name = self.fresh(CLASSES, self.classes)
        self.emit("cls_decorated", self.class_text(name, decorators=[deco]))
        self.classes.append(name)
        self.emit("call", f"print({name}(5).value())")

    # ── builtins, star imports, deletion, namespace ──

    def p_shadow_builtin(self) -> None:
        name = self.pick(BUILTINS)
        value = {"max": "min", "min": "max", "sum": "len", "len": "lambda s: 99",
                 "sorted": "list", "round": "lambda x, n=0: 'rounded'", "abs": "str"}[name]
        self.emit("shadow_builtin", f"{name} = {value}")
        if self.chance(0.3):
            self.emit("shadow_builtin", f"del {name}")

    def p_builtin_call_through_function(self) -> None:
        name = self.fresh(FUNCS, self.funcs)
        self.emit("builtin_call_through_function",
                  self.def_text(name, body=self.pick(["return max([3, 7]) + x", "return sum([x, 2])",
                                                      "return sorted([x, 1])",
                                                      "return len('abc') + x"])))
        self.funcs.append(name)
        self.emit("call", self.call_text(name))

    def p_del_name(self) -> None:
        pool = self.funcs + self.consts + self.classes
        name = self.pick(pool) if pool and self.chance(0.8) else self.pick(FUNCS + CONSTS)
        self.emit("del_name", self.pick([f"del {name}", (f"try:\n    del {name}\nexcept NameError:\n"
                                                         "    print('no', 'name')")]))

    def p_namespace_listing(self) -> None:
        names = self.rng.sample(FUNCS + CONSTS + CLASSES, 3)
        self.emit("namespace_listing", self.pick([
            "%who",
            f"print({names[0]!r} in globals())",
            f"print(globals()[{names[0]!r}])" if names[0] in CONSTS else
            f"print(globals().get({names[0]!r}) is not None)",
            f"print([n for n in {names!r} if n in dir()])",
            "print(sorted(n for n in dir() if not n.startswith('_')))",
            f"print({names[1]!r} in vars())",
        ]))

    # ── writefile modules and files the notebook writes ──

    def p_writefile(self) -> None:
        mod = self.pick(MODULES)
        other = self.pick([m for m in MODULES if m != mod])
        content = self.pick(WRITEFILE_CONTENTS)
        if "{other}" in content and other not in self.modules:
            content = WRITEFILE_CONTENTS[0]
        self.emit("writefile", f"%%writefile {mod}.py\n" + content.format(mod=mod, other=other),
                  solo=True)
        self.modules.append(mod)
        if self.chance(0.25):
            self.emit("writefile_append", f"%%writefile -a {mod}.py\n\n\ndef shout(x):\n"
                      "    return str(greet(x)).upper()\n", solo=True)
        if self.chance(0.7):
            self.p_writefile_import(mod)

    def p_writefile_import(self, mod: str | None = None) -> None:
        mod = mod or (self.pick(self.modules) if self.modules else self.pick(MODULES))
        variant = self.rng.randrange(7)
        if variant == 0:
            self.emit("writefile_import", f"import {mod}")
            use = f"print({mod}.greet(2))"
        elif variant == 1:
            self.emit("writefile_import", f"from {mod} import greet")
            use = "print(greet(3))"
        elif variant == 2:
            self.emit("writefile_import", f"import re, {mod}")
            use = f"print({mod}.greet(1))"
        elif variant == 3:
            self.emit("writefile_import", f"try:\n    import {mod}\nexcept ImportError:\n    {mod} = None")
            use = f"print({mod} and {mod}.greet(2))"
        elif variant == 4:
            self.emit("writefile_import", f"if True:\n    import {mod}")
            use = f"print({mod}.greet(4))"
        elif variant == 5:
            name = self.fresh(FUNCS, self.funcs)
            self.emit("writefile_import", self.def_text(
                name, body=f"import {mod}\n    return {mod}.greet(x)"))
            self.funcs.append(name)
            use = f"print({name}(2))"
        else:
            self.emit("writefile_import", f"import {mod}")
            name = self.fresh(FUNCS, self.funcs)
            self.emit("writefile_import", self.def_text(name, body=f"return {mod}.greet(x)"))
            self.funcs.append(name)
            use = f"print({name}(5))"
        self.emit("call", use)
        if self.chance(0.2):
            self.emit("logging_config", "import logging\n"
                      "logging.basicConfig(format='%(name)s|%(message)s', force=True)")

    def p_writefile_overwrite_with_autoreload(self) -> None:
        mod = self.pick(MODULES)
        if self.chance(0.5):
            self.emit("autoreload", "%load_ext autoreload\n%autoreload 2")
        self.emit("writefile", f"%%writefile {mod}.py\ndef greet(x):\n    return 'v1 %s' % x\n",
                  solo=True)
        self.emit("writefile_import", f"import {mod}")
        self.emit("writefile_overwrite_with_autoreload",
                  f"%%writefile {mod}.py\ndef greet(x):\n    return 'v2 %s' % x\n", solo=True)
        self.emit("call", f"print({mod}.greet(1))")
        self.modules.append(mod)

    def p_file_written_by_notebook(self) -> None:
        modname = self.pick(["mod2", "util"])
        variant = self.rng.randrange(2)
        content = "def triple(x):\\n    return x * 3\\n"
        if variant == 0:
            self.emit("file_written_by_notebook", f"open('{modname}.py', 'w').write('{content}')")
        else:
            self.emit("file_written_by_notebook",
                      f"with open('{modname}.py', 'w') as fh:\n    fh.write('{content}')")
        self.emit("file_written_by_notebook", f"import {modname}")
        name = self.fresh(FUNCS, self.funcs)
        self.emit("fn_plain", self.def_text(name, body=f"return {modname}.triple(x)"))
        self.funcs.append(name)
        self.emit("call", self.call_text(name))

    def p_sys_path_edit(self) -> None:
        self.emit("sys_path_edit",
                  "import os, sys\nos.makedirs('lib', exist_ok=True)\n"
                  "with open('lib/libmod.py', 'w') as fh:\n"
                  "    fh.write('def quad(x):\\n    return x * 4\\n')\n"
                  "sys.path.insert(0, 'lib')")
        if self.chance(0.8):
            self.emit("sys_path_edit", self.pick(["import libmod", "from libmod import quad"]))
        name = self.fresh(FUNCS, self.funcs)
        self.emit("fn_plain", self.def_text(name, body="return libmod.quad(x)"))
        self.funcs.append(name)
        self.emit("call", self.call_text(name))

    def p_chdir(self) -> None:
        if self.chance(0.5):
            self.emit("chdir", "import os\nos.makedirs('sub', exist_ok=True)\nos.chdir('sub')")
        else:
            self.emit("chdir", "import os\nos.makedirs('sub', exist_ok=True)")
            self.emit("chdir", "%cd sub")
        if self.chance(0.4):
            self.emit("chdir", self.pick(["os.chdir('..')", "%cd .."]))

    # ── display, history, magics, errors ──

    def p_display_expression_after_def(self) -> None:
        name = self.fresh(FUNCS, self.funcs)
        tail = self.pick([f"{name}(2)", f"'''Notes about {name}.'''", "RATE", "3 * 7",
                          f"{name}"])
        if tail == "RATE":
            self.need_const("RATE")
        self.emit("display_expression_after_def", self.def_text(name) + "\n\n" + tail)
        self.funcs.append(name)

    def p_display_expression_before_def(self) -> None:
        name = self.fresh(FUNCS, self.funcs)
        head = self.pick(["'''Functions for the analysis.'''", "3 * 7", "'text'",
                          f"{self.some_func(exclude=name)}(1)"])
        self.emit("display_expression_before_def", head + "\n\n" + self.def_text(name))
        self.funcs.append(name)

    def p_display_value(self) -> None:
        if self.funcs and self.chance(0.7):
            name = self.pick(self.funcs)
            self.emit("display_value", self.pick([f"{name}(2)", f"x = {name}(1)\nx",
                                                  f"display({name}(3))"]))
        else:
            self.emit("display_value", self.pick(["1 + 1", "'shown'", "[1, 2]"]))

    def p_history_read(self) -> None:
        n = self.rng.randint(1, 6)
        self.emit("history_read", self.pick([
            f"print(Out.get({n}))", f"print(_i{n})", f"print(_{n})", "print(repr(_))",
            "print(len(In))", f"In[{n}]" if self.chance(0.5) else "_",
        ]))

    def p_magic_time(self) -> None:
        if self.funcs and self.chance(0.5):
            self.emit("magic_time", f"%time {self.pick(self.funcs)}(2)")
        else:
            name = self.fresh(FUNCS, self.funcs)
            self.emit("magic_time", "%%time\n" + self.def_text(name) + f"\nprint({name}(1))",
                      solo=True)
            self.funcs.append(name)

    def p_magic_capture(self) -> None:
        name = self.fresh(FUNCS, self.funcs)
        self.emit("magic_capture", "%%capture cap\nprint('hidden')\n" + self.def_text(name),
                  solo=True)
        self.funcs.append(name)
        self.emit("magic_capture", "print(repr(cap.stdout))")

    def p_error_cell(self) -> None:
        self.emit("error_cell", self.pick(["1/0", "undefined_name", "print(undefined_name)",
                                           "raise ValueError('boom')", "[][1]"]))

    def p_syntax_error_cell(self) -> None:
        name = self.fresh(FUNCS, self.funcs)
        self.emit("syntax_error_cell", self.pick([
            "def broken(:\n    pass", "print('unclosed'",
            f"def {name}(x):\n    return x +\n\nprint('after')",
        ]), solo=True)

    def p_compile_error_cell(self) -> None:
        """A def that parses but that CPython's compiler rejects, next to a plain function."""
        name = self.fresh(FUNCS, self.funcs)
        bad = self.pick([
            "def broken(x, x):\n    return x",
            "def broken():\n    nonlocal y\n    return 1",
            "def broken():\n    break",
            "def broken():\n    await something()",
            "def broken():\n    y = 1\n    global y",
            "def broken():\n    *a, *b = [1, 2]\n    return a",
        ])
        plain = self.def_text(name)
        text = f"{plain}\n\n\n{bad}" if self.chance(0.5) else f"{bad}\n\n\n{plain}"
        self.emit("compile_error_cell", text)
        self.funcs.append(name)

    def p_future_annotations(self) -> None:
        """`from __future__ import annotations` partway down: it changes later cells only."""
        if self.chance(0.5):
            name = self.fresh(FUNCS, self.funcs)
            self.emit("future_annotations", self.def_text(name, "x: Undefined", body="return x"))
            self.funcs.append(name)
        self.emit("future_annotations", "from __future__ import annotations")
        name = self.fresh(FUNCS, self.funcs)
        self.emit("future_annotations",
                  self.def_text(name, "x: Undefined", body="return x"))
        self.funcs.append(name)
        if self.chance(0.5):
            self.emit("call", f"print({name}.__annotations__)")

    # ── definitions written as assignments ──

    def read_assigned(self, production: str, name: str, family: str,
                      body_uses: list[str] = (), shows: list[str] = ()) -> None:
        """Functions and cells that read an assigned definition `name`: in a body, a default,
        an annotation, a print or a display, now and then above the definition."""
        uses, seen = FAMILY_USES[family]
        uses = [u.replace("NAME", name) for u in list(body_uses) + uses]
        shows = [s.replace("NAME", name) for s in list(shows) + seen]
        for _ in range(self.rng.randint(1, 2)):
            r = self.rng.random()
            if r < 0.6:
                # Mostly names of their own, so that the functions of the other productions
                # are not redefined much more often than before.
                fn = self.fresh(READERS if self.chance(0.8) else FUNCS, self.funcs)
                if r < 0.35 or (r >= 0.47 and family not in TYPE_FAMILIES):
                    use = self.pick(uses)
                    text = self.def_text(fn, body=f"return {use}")
                elif r < 0.47:
                    use = name
                    text = self.def_text(fn, f"x, kind={name}", body="return [x, kind]")
                else:
                    use = name
                    text = self.def_text(fn, f"x: {name}", body="return x") \
                        .replace("):", f") -> {name}:", 1)
                if "typing." in use:
                    self.need_import("import typing")
                if self.chance(0.15):
                    self.insert_earlier(production, text)  # bodies read names when called
                else:
                    self.emit(production, text)
                self.funcs.append(fn)
                if self.chance(0.6):
                    self.emit("call", self.call_text(fn))
            else:
                show = self.pick(shows)
                if "typing." in show:
                    self.need_import("import typing")
                text = self.pick([f"print({show})", show, f"display({show})"])
                if r < 0.9:
                    self.emit(production, text)
                else:
                    self.insert_earlier(production, text)

    def assign(self, production: str, name: str, value: str, imports: list[str]) -> None:
        for stmt in imports:
            self.need_import(stmt)
        self.emit(production, f"{name} = {value}")
        self.assigned.append(name)

    def p_alias_def(self) -> None:
        """A type alias, read by functions (bodies, defaults, annotations) and cells."""
        name, value, imports = self.pick(ALIASES)
        if "Point" in value and "Point" not in self.assigned + self.classes and self.chance(0.8):
            self.assign("alias_def", "Point", "tuple[int, int]", [])
        self.assign("alias_def", name, value, imports)
        self.read_assigned("alias_def", name, "alias")
        if self.chance(0.1):
            self.emit("alias_def", f"{name} = {self.pick(['list', 'int', 'None'])}")

    def p_ctor_def(self) -> None:
        """A call of a known pure constructor with constant arguments: namedtuple, NamedTuple,
        TypedDict, TypeVar, ParamSpec, NewType, functional Enum, frozenset, tuple, re.compile,
        Decimal, Fraction; imported in several ways."""
        name, value, imports, family = self.pick(CONSTRUCTORS)
        self.assign("ctor_def", name, value, imports)
        self.read_assigned("ctor_def", name, family)
        if self.chance(0.1):
            self.emit("ctor_def", f"{name} = {value}")  # the same code bound twice

    def p_ctor_stays(self) -> None:
        """Twins of ctor_def that must stay: calls of anything else, constructors with
        arguments that are not constants, constructors shadowed by the notebook."""
        variant = self.rng.randrange(10)
        if variant == 0:
            self.assign("ctor_stays", "RNG", "random.Random(7)", ["import random"])
            name, family = "RNG", "random"
        elif variant == 1:
            self.assign("ctor_stays", "ORDER", self.pick(["sorted([3, 1, 2])", "list(range(3))",
                                                          "tuple(range(3))"]), [])
            name, family = "ORDER", "sequence"
        elif variant == 2:
            name, family = self.pick(["Pair", "Color", "PAIR"]), "any"
            self.assign("ctor_stays", name, f"{self.some_func()}(2)", [])
        elif variant == 3:
            self.emit("ctor_stays", "pattern = ''.join(['a', '+'])")
            self.assign("ctor_stays", "WORD", "re.compile(pattern)", ["import re"])
            if self.chance(0.4):
                self.emit("ctor_stays", "pattern = 'b+'")
            name, family = "WORD", "regex"
        elif variant == 4:
            self.emit("ctor_stays", "FIELDS = ['a', 'b']")
            if self.chance(0.4):
                self.emit("ctor_stays", "FIELDS.append('c')")
            self.assign("ctor_stays", "Pair", "namedtuple('Pair', FIELDS)",
                        ["from collections import namedtuple"])
            if self.chance(0.4):
                self.emit("ctor_stays", "FIELDS.append('d')")
            name, family = "Pair", "tuple"
        elif variant == 5:
            self.need_const("RATE")
            self.assign("ctor_stays", "PRICE", self.pick(["Decimal(str(RATE))", "Decimal(RATE)"]),
                        ["from decimal import Decimal"])
            name, family = "PRICE", "number"
        elif variant == 6:
            self.emit("ctor_stays", "names = 'RED GREEN'.split()")
            self.assign("ctor_stays", "Color", "Enum('Color', names)", ["from enum import Enum"])
            name, family = "Color", "enum"
        elif variant == 7:
            self.need_const("LIMIT")
            self.assign("ctor_stays", "HALF", "Fraction(LIMIT, 3)",
                        ["from fractions import Fraction"])
            name, family = "HALF", "number"
        else:
            # A constructor the notebook binds to something else (a builtin shadowed, an
            # import replaced), before or after the call; and maybe deleted again.
            name, value, family, shadows = self.pick([
                ("PAIR", "tuple('ab')", "sequence",
                 ["tuple = list", "tuple = lambda s: 'shadowed'",
                  "def tuple(s):\n    return 'mine'"]),
                ("VOWELS", "frozenset('aeiou')", "set",
                 ["frozenset = set", "frozenset = sorted",
                  "def frozenset(s):\n    return 'mine'"]),
                ("Pair", "namedtuple('Pair', 'a b')", "tuple",
                 ["def namedtuple(name, fields):\n    return name.lower()",
                  "from collections import namedtuple"]),
                ("WORD", "compile(r'\\d+')", "regex", ["from re import compile"]),
            ])
            shadow = self.pick(shadows)
            shadowed = value.split("(")[0]
            early = variant == 8
            if early:
                self.emit("ctor_stays", shadow)
            if name == "Pair" and self.chance(0.5):
                self.need_import("from collections import namedtuple")
            self.assign("ctor_stays", name, value, [])
            if not early:
                self.emit("ctor_stays", shadow)
            if self.chance(0.3):
                self.emit("ctor_stays", f"del {shadowed}")
        self.read_assigned("ctor_stays", name, family)

    def p_bound_method_def(self) -> None:
        """An attribute of a constant (`cat = ''.join`), maybe rebound later."""
        name, value, uses, shows = self.pick(BOUND_METHODS)
        for const in CONSTS:
            if value.startswith(const):
                self.need_const(const)
        self.assign("bound_method_def", name, value, [])
        self.read_assigned("bound_method_def", name, "any", uses, shows)
        if self.chance(0.15):
            value = self.pick(["str.upper", "'+'.join"])
            self.emit("bound_method_def", f"{name} = {value}")

    def p_container_def(self) -> None:
        """A container of imported names, builtins or notebook functions, maybe changed later
        or read before it is bound."""
        if self.chance(0.5):
            name = "OPS"
            imports, value = self.pick([
                (["from operator import add, sub"], "{'+': add, '-': sub}"),
                (["import operator as op"], "{'+': op.add, '-': op.sub}"),
                (["from operator import add", "from operator import sub"],
                 "dict([('+', add), ('-', sub)])"),
                ([], "{'+': max, '-': min}"),
            ])
            self.assign("container_def", name, value, imports)
            if self.chance(0.35):
                mutation = self.pick(["OPS['*'] = mul", "OPS.pop('-', None)", "OPS['+'] = OPS['-']",
                                      "OPS = dict(OPS)"])
                if "mul" in mutation:
                    self.need_import("from operator import mul")
                self.emit("container_def", mutation)
            family = "operators"
        else:
            name = "HANDLERS"
            first = self.some_func()
            second = self.some_func(exclude=first)
            value = self.pick([f"[{first}, {second}]", f"({first}, {second})", f"[{first}, abs]"])
            self.assign("container_def", name, value, [])
            if value.startswith("[") and self.chance(0.4):
                self.emit("container_def", self.pick([
                    f"HANDLERS.append({self.some_func()})", "HANDLERS.insert(0, abs)",
                    "HANDLERS[0] = str", "HANDLERS.reverse()", "HANDLERS = HANDLERS[:1]"]))
            if self.chance(0.25):
                self.insert_earlier("container_def", "print(len(HANDLERS))")
            family = "handlers"
        self.read_assigned("container_def", name, family)

    def p_lambda_def(self) -> None:
        """A lambda bound to a name: with defaults, reading notebook names, functions or
        rebound builtins; called before what it reads is bound; rebound later."""
        name = self.pick(LAMBDAS)
        value, needs = self.pick(LAMBDA_VALUES)
        if needs in CONSTS:
            self.need_const(needs)
        elif needs == "function":
            value = value.replace("OTHER", self.some_func(exclude=name))
        elif needs == "variable" and self.chance(0.8):
            self.emit("lambda_def", "offset = int('3')")
        self.assign("lambda_def", name, value, [])
        if needs == "later":
            self.emit("call", f"print({name}(1))")  # NameError: helper is not bound yet
            self.emit("lambda_def", self.def_text("helper", body="return x * 10"))
        elif needs == "builtin" and self.chance(0.5):
            self.emit("lambda_def", "len = lambda s: 99")
        elif needs == "variable" and self.chance(0.3):
            self.emit("lambda_def", "offset += 1")
        elif needs in CONSTS and self.chance(0.3):
            self.emit("const_mutate", self.pick(CONST_MUTATIONS[needs]))
        self.read_assigned("lambda_def", name, "callable")
        if self.chance(0.2):
            self.emit("lambda_def", self.pick([f"{name} = lambda x: -x",
                                               f"def {name}(x):\n    return 'def'"]))

    # ── star imports of the standard library ──

    def p_star_stdlib(self) -> None:
        """A star import of the standard library and functions reading what it binds (math's
        `pow`, which returns a float, shadows the builtin); the star import before or after
        the function, and `pow` rebound between star import and call."""
        if self.chance(0.25):
            star, params, returns, body = self.pick(STAR_ANNOTATED)
            fn = self.fresh(FUNCS, self.funcs)
            text = self.def_text(fn, params, body=f"return {body}").replace(
                "):", f") -> {returns}:", 1)
            self.emit("star_stdlib", star)
            self.emit("star_stdlib", text)
            self.funcs.append(fn)
            self.emit("call", self.call_text(fn))
            return
        star = self.pick(list(STAR_MODULES))
        fn = self.fresh(FUNCS if self.chance(0.5) else READERS, self.funcs)
        variant = self.rng.randrange(4)
        body = self.pick(STAR_MODULES[star])
        if variant >= 1 and self.chance(0.7):
            star, body = "from math import *", self.pick(["pow(x, 2)", "pow(x, 3) + sqrt(x)",
                                                          "round(pow(2, x), 1)"])
        text = self.def_text(fn, body=f"return {body}")
        if variant == 1:  # the function first, the star import that changes what it reads next
            self.emit("star_stdlib", text)
            if self.chance(0.5):
                self.emit("call", self.call_text(fn))
            self.emit("star_stdlib", star)
        else:
            self.emit("star_stdlib", star)
            self.emit("star_stdlib", text)
        if variant == 2 and "pow" in body:
            self.emit("star_stdlib", self.pick([
                "pow = lambda a, b: 'mine'", "import builtins\npow = builtins.pow", "del pow",
                "def pow(a, b):\n    return a - b"]))
        self.funcs.append(fn)
        self.emit("call", self.call_text(fn))

    # ── postponed annotations ──

    def annotation(self) -> str:
        """A name for an annotation: never imported, a notebook variable, a constant, an
        alias or assigned definition, a class, a string."""
        options = ["Iterable", "Iterable[int]", "Sequence[str]", "data", "'Point'"]
        options += self.consts[-2:] + self.assigned[-3:] + self.classes[-2:]
        return self.pick(options)

    def p_postponed_annotations(self) -> None:
        """`from __future__ import annotations` at the top of a cell, or of an earlier one; then
        functions, classes and dataclasses annotated with names that are never bound, notebook
        variables, constants and aliases; then code that reads the annotations."""
        future = "from __future__ import annotations"
        if self.chance(0.3):
            self.emit("data_variable", "data = list(range(3))")
        together = self.chance(0.5)
        if not together:
            self.blocks.append(Block("postponed_annotations", future, starts_cell=True))
        names = []
        for _ in range(self.rng.randint(1, 2)):
            a, b = self.annotation(), self.annotation()
            kind = self.rng.randrange(3)
            if kind == 0:
                name = self.fresh(FUNCS, self.funcs)
                text = self.def_text(name, f"x: {a}", body="return [x]").replace(
                    "):", f") -> {b}:", 1)
                self.funcs.append(name)
                call = self.call_text(name)
            elif kind == 1:
                name = self.fresh(CLASSES, self.classes)
                text = self.class_text(name, body_lines=[f"x: {a}", f"size: {b} = 2", ""])
                self.classes.append(name)
                call = f"print({name}(3).value(), {name}.size)"
            else:
                self.need_import("import dataclasses")
                name = self.fresh(CLASSES, self.classes)
                text = (f"@dataclasses.dataclass\nclass {name}:\n    x: {a} = 0\n"
                        f"    tags: {b} = ()\n\n    def value(self):\n        return self.x * 2")
                self.classes.append(name)
                call = f"print({name}(3), {name}(3).value())"
            if together:
                self.blocks.append(Block("postponed_annotations", f"{future}\n\n{text}",
                                         starts_cell=True))
                together = False
            else:
                self.emit("postponed_annotations", text)
            names.append((name, kind))
            if self.chance(0.5):
                self.emit("call", call)
        name, kind = self.pick(names)
        if kind == 2 and self.chance(0.5):
            self.emit("postponed_annotations",
                      f"print([f.type for f in dataclasses.fields({name})])")
        elif self.chance(0.4):
            self.emit("postponed_annotations", f"print({name}.__annotations__)")
        else:
            self.need_import("import typing")
            if self.chance(0.5):
                self.emit("annotations_hints", f"print(typing.get_type_hints({name}))")
            else:
                self.emit("annotations_hints",
                          f"try:\n    print(typing.get_type_hints({name}))\n"
                          "except (NameError, TypeError) as e:\n    print('unresolved:', e)")

    def p_call(self) -> None:
        if self.classes and self.chance(0.2):
            name = self.pick(self.classes)
            self.emit("call", f"print({name}(2).value())")
        else:
            self.emit("call", self.call_text(self.some_func()))


# (production, weight). Plain functions, constants and imports dominate, so that many
# definitions move; every production must be reachable (tests/python/test_fuzz_behaviour.py).
PRODUCTIONS: list[tuple[str, float]] = [
    ("import_plain", 6), ("import_star", 1.2), ("import_version_block", 1),
    ("import_try_block", 1), ("import_conditional_on_variable", 0.8),
    ("import_type_checking", 0.8),
    ("const_def", 5), ("const_mutate", 1.5), ("module_attribute_mutate", 0.8),
    ("const_read", 2), ("const_read_before_definition", 1),
    ("fn_plain", 14), ("fn_pair", 2), ("fn_calls_later_name", 1.5), ("fn_default", 2.5),
    ("fn_seeded_random", 0.8), ("fn_redefine_same", 1), ("fn_redefine_different", 1),
    ("fn_rebound_by_assignment", 0.7), ("fn_exit_in_body", 0.6), ("fn_global", 0.6),
    ("fn_exec_eval", 0.6), ("fn_dunder_name", 0.6), ("fn_automagic", 0.7),
    ("fn_decorated", 2.5), ("cls_plain", 2.5), ("cls_body_statements", 1.5), ("cls_base", 1.5),
    ("cls_metaclass", 0.8), ("cls_init_subclass", 0.8), ("cls_set_name", 0.6),
    ("cls_dataclass", 0.8), ("cls_decorated", 0.7),
    ("shadow_builtin", 1.5), ("builtin_call_through_function", 1.2), ("del_name", 0.8),
    ("namespace_listing", 1),
    ("writefile", 1.5), ("writefile_import", 0.6), ("writefile_overwrite_with_autoreload", 0.5),
    ("file_written_by_notebook", 0.6), ("sys_path_edit", 0.6), ("chdir", 0.6),
    ("display_expression_after_def", 1.5), ("display_expression_before_def", 1.2),
    ("display_value", 1.5), ("history_read", 0.8), ("magic_time", 0.8), ("magic_capture", 0.5),
    ("error_cell", 0.8), ("syntax_error_cell", 0.5), ("compile_error_cell", 0.5),
    ("future_annotations", 0.5), ("call", 5),
    # Definitions written as assignments, star imports of the standard library, postponed
    # annotations. They come on top of the others: the blocks they add do not count towards a
    # notebook's length, so the productions above keep their share.
    ("alias_def", 3), ("ctor_def", 4), ("ctor_stays", 2.5), ("bound_method_def", 1.5),
    ("container_def", 2.5), ("lambda_def", 3), ("star_stdlib", 2.5),
    ("postponed_annotations", 2.5),
]
ON_TOP = {"alias_def", "ctor_def", "ctor_stays", "bound_method_def", "container_def",
          "lambda_def", "star_stdlib", "postponed_annotations"}

# Every block production name, including those that only appear as part of another production.
BLOCK_PRODUCTIONS = sorted({name for name, _ in PRODUCTIONS} | {
    "decorator_def", "read_registry", "writefile_append", "logging_config", "autoreload",
    "data_variable", "annotations_hints"})

# Productions whose cells may raise an error nbhoist cannot see in the code
# (`typing.get_type_hints` of a postponed annotation): their notebooks are saved with outputs.
RAISING = {"error_cell", "annotations_hints"}


def notebook_seed(seed: int, index: int) -> int:
    return seed * 1_000_003 + index


def generate(seed: int, index: int, weights: dict[str, float] | None = None) -> Notebook:
    """Notebook `index` of run `seed`: 3 to 12 cells of randomly combined productions.

    `weights` overrides the weights of some productions (to aim a run at some patterns).
    """
    rng = random.Random(notebook_seed(seed, index))
    gen = Gen(rng)
    names = [name for name, _ in PRODUCTIONS]
    weights = [(weights or {}).get(name, w) for name, w in PRODUCTIONS]
    n_cells = rng.randint(3, 12)
    if rng.random() < 0.7:
        for _ in range(rng.randint(1, 3)):
            gen.p_import_plain()
    target = n_cells + rng.randint(0, n_cells)
    on_top = 0  # blocks added by the ON_TOP productions, unless they are all there is
    only_on_top = not any(w for name, w in zip(names, weights) if name not in ON_TOP)
    while len(gen.blocks) - on_top < target:
        name = rng.choices(names, weights)[0]
        before = len(gen.blocks)
        getattr(gen, "p_" + name)()
        if name in ON_TOP and not only_on_top:
            on_top += len(gen.blocks) - before
    # Group consecutive blocks into cells; cell magics and automagic lines stand alone.
    cells: list[list[Block]] = []
    split = min(0.9, n_cells / max(1, len(gen.blocks)))
    for block in gen.blocks:
        if (not cells or block.solo or block.starts_cell or cells[-1][0].solo
                or rng.random() < split):
            cells.append([block])
        else:
            cells[-1].append(block)
    if len(cells) < 3:
        cells = [[b] for b in gen.blocks]
    cells = cells[:12]
    # Most notebooks are saved after a run, with outputs that show which cells raised; the
    # others are stripped. nbhoist cannot know that a stripped notebook's `[][1]` (or
    # `typing.get_type_hints(f)`) raises, so a notebook with such a cell is always saved with
    # outputs.
    raises = any(b.production in RAISING for c in cells for b in c)
    metadata = default_metadata()
    if raises or rng.random() < 0.7:
        metadata[SAVED_OUTPUTS] = True
    return Notebook(cells, metadata)


# Notebook metadata key: the harness saves the original run's outputs into the notebook it
# gives nbhoist, as a notebook saved after "Run All" has them.
SAVED_OUTPUTS = "fuzz-saved-outputs"

# Errors nbhoist can tell from the code of a notebook saved without outputs.
VISIBLE_ERRORS = {"NameError", "SyntaxError", "UsageError"}


def default_metadata() -> dict[str, Any]:
    return {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": "3.11.7"},
    }


def with_saved_outputs(doc: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """`doc` as Jupyter saves it after running it: execution counts, and the errors raised."""
    doc = json.loads(json.dumps(doc))
    count = 0
    for number, cell in enumerate(doc["cells"], 1):
        if cell.get("cell_type") != "code":
            continue
        count += 1
        cell["execution_count"] = count
        cell["outputs"] = [
            {"output_type": "error", "ename": e["text"], "evalue": "", "traceback": []}
            for e in events if e["cell"] == number and e["kind"] == "error"
        ]
    return doc


def as_given(doc: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """The notebook as nbhoist is given it, after a run that had `events`: with their outputs
    when it is saved with outputs. Without, nbhoist sees only the errors the code itself
    shows (an unbound name, a syntax error); a notebook whose run raises another error gets
    its outputs too, as a notebook saved after running shows them (docs/verdicts.md: known
    limits)."""
    hidden = any(e["kind"] == "error" and e["text"] not in VISIBLE_ERRORS for e in events)
    if doc.get("metadata", {}).get(SAVED_OUTPUTS) or hidden:
        return with_saved_outputs(doc, events)
    return doc


def cell_source(cell: list[Block]) -> str:
    return "\n\n".join(b.text for b in cell)


def notebook_doc(cells: list[list[Block]], metadata: dict | None = None) -> dict[str, Any]:
    """An nbformat 4.5 notebook, written like tests/fixtures/make_fixtures.py writes them.

    A replayed cell keeps its own JSON (type, id, metadata, outputs) with the new source.
    """
    out = []
    for i, cell in enumerate(cells):
        lines = cell_source(cell).splitlines(keepends=True)
        if cell[0].cell is not None:
            out.append(dict(cell[0].cell, source=lines))
        else:
            out.append({"cell_type": "code", "execution_count": None, "id": f"c{i}",
                        "metadata": {}, "outputs": [], "source": lines})
    return {
        "cells": out,
        "metadata": metadata if metadata is not None else default_metadata(),
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def write_notebook(path: str, doc: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


def load_notebook(path: str) -> Notebook:
    """A notebook file to replay: one block per cell, each keeping its JSON."""
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    cells = []
    for cell in nb.get("cells", []):
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        code = cell.get("cell_type") == "code"
        cells.append([Block("replay" if code else "replay_" + str(cell.get("cell_type")), text,
                            solo=not code or text.lstrip().startswith("%%"), cell=cell)])
    return Notebook(cells, nb.get("metadata", {}))


def read_cells(path: str) -> list[tuple[str, str | None]]:
    """(source, id) of every cell."""
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    out = []
    for cell in nb.get("cells", []):
        source = cell.get("source", "")
        out.append(("".join(source) if isinstance(source, list) else source, cell.get("id")))
    return out


# ─────────────────────────────────────────────────────────────────────────────── running ──

def _prepare_zygote() -> None:
    """Import IPython once in the worker; children forked from it start warm."""
    sys.path.insert(0, HERE)
    import importlib

    import run_notebook  # noqa: F401
    from IPython.core.interactiveshell import InteractiveShell

    # What creating a shell imports lazily, and the standard modules the grammar uses (a
    # kernel has most of them loaded before the first cell runs anyway).
    for module in ["IPython.extensions.autoreload", "IPython.core.completer",
                   "IPython.core.completerlib", "IPython.core.magics", "IPython.core.oinspect",
                   "IPython.core.application", "IPython.core.crashhandler",
                   "IPython.core.logger", "sqlite3", "hashlib", "glob", "bdb", "unicodedata",
                   "math", "statistics", "json", "re", "functools", "string", "textwrap",
                   "collections", "dataclasses", "logging", "typing", "pprint"]:
        importlib.import_module(module)

    def cheap_storage(self, exception, filename=None, running_compiled_code=False):
        # IPython keeps a formatted traceback of each error for its history; formatting it
        # costs ~0.1 s (it parses source files) and nothing the notebook can see uses it.
        return {"ename": type(exception).__name__, "evalue": "", "traceback": []}

    InteractiveShell._format_exception_for_storage = cheap_storage


def _settle_files(folder: str, seen: dict[str, tuple], clock: list[float]) -> None:
    """Give each .py file written since the last call a later mtime, one step per cell.

    Cells of a real notebook run seconds apart; here they run milliseconds apart, within one
    tick of the filesystem clock, so autoreload and the import system could miss a rewrite.
    """
    clock[0] += 2.0
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in filenames:
            if not name.endswith(".py"):
                continue
            path = os.path.join(dirpath, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            key = (st.st_mtime_ns, st.st_size, st.st_ino)
            if seen.get(path) != key:
                os.utime(path, (clock[0], clock[0]))
                st = os.stat(path)
                seen[path] = (st.st_mtime_ns, st.st_size, st.st_ino)


def _run_in_child(path: str, import_modules: list[str] | None) -> dict[str, Any]:
    """Runs in a forked child: the notebook's events, then (optionally) the package imports."""
    import importlib

    import run_notebook

    random.seed(0)
    sys.dont_write_bytecode = True
    folder = os.path.dirname(os.path.abspath(path))
    seen: dict[str, tuple] = {}
    clock = [time.time() + 10_000.0]
    _settle_files(folder, seen, clock)
    make_shell = run_notebook.make_shell

    def make_shell_with_hooks(recorder):
        shell = make_shell(recorder)
        shell.events.register("pre_run_cell", lambda *a: importlib.invalidate_caches())
        shell.events.register("post_run_cell", lambda *a: _settle_files(folder, seen, clock))
        return shell

    run_notebook.make_shell = make_shell_with_hooks
    events = run_notebook.run(path)
    import_errors = []
    if import_modules is not None:
        os.chdir(folder)
        importlib.invalidate_caches()
        for name in list(sys.modules):
            if name == PACKAGE or name.startswith(PACKAGE + "."):
                del sys.modules[name]
        for module in import_modules:
            try:
                importlib.import_module(module)
            except BaseException as e:  # noqa: BLE001 - SystemExit too
                import_errors.append({"module": module, "error": type(e).__name__,
                                      "message": str(e)[:200]})
    return {"events": events, "import_errors": import_errors}


def run_forked(path: str, import_modules: list[str] | None = None,
               timeout: float = RUN_TIMEOUT) -> dict[str, Any]:
    """Run a notebook in a child forked from this (warm) process; its events as JSON."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        status = 0
        try:
            os.setpgid(0, 0)
            stdin = os.open(os.devnull, os.O_RDONLY)
            os.dup2(stdin, 0)  # the worker's stdin carries its tasks
            quiet = os.open(os.devnull, os.O_WRONLY)
            os.dup2(quiet, 1)  # what the package import check prints, say
            os.dup2(quiet, 2)
            result = _run_in_child(path, import_modules)
            data = json.dumps(result, ensure_ascii=False).encode("utf-8", "replace")
        except BaseException as e:  # noqa: BLE001
            data = json.dumps({"crash": f"{type(e).__name__}: {e}"}).encode()
            status = 1
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(write_fd, view):]
        finally:
            os._exit(status)
    os.close(write_fd)
    chunks = []
    deadline = time.monotonic() + timeout
    timed_out = False
    with os.fdopen(read_fd, "rb") as r:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([r], [], [], left)
            if not ready:
                continue
            chunk = os.read(r.fileno(), 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    if timed_out:
        for target in (-pid, pid):
            try:
                os.kill(target, signal.SIGKILL)
            except OSError:
                pass
    os.waitpid(pid, 0)
    if timed_out:
        return {"crash": f"timed out after {timeout:.0f} s"}
    try:
        return json.loads(b"".join(chunks).decode("utf-8"))
    except ValueError:
        return {"crash": "the child died without a result"}


# ───────────────────────────────────────────────────────────────────────────── comparing ──

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
_TIMES = re.compile(r"^(CPU times|Wall time):.*$", re.MULTILINE)
# Where a moved class's qualified name shows: `<class 'hoisted.nb.Point'>`, `hoisted.nb.Point`
# (IPython's pretty form), `<hoisted.nb.Point object at 0x...>`, and a moved lambda's:
# `<function hoisted.nb.<lambda>(x)>`.
_PACKAGE_QUALNAME = re.compile(r"\b" + PACKAGE + r"\.nb\.(?=[A-Za-z_<])")


def normalise(text: Any, folder: str) -> Any:
    if not isinstance(text, str):
        return text
    for f in {folder, os.path.realpath(folder)}:
        text = text.replace(f, "<folder>")
        # The run's own parent (`%cd ..`): each run has one.
        text = text.replace(os.path.dirname(f), "<parent>")
    text = _ADDRESS.sub("0x?", text)
    text = _TIMES.sub(lambda m: m.group(1) + ": ?", text)
    text = _PACKAGE_QUALNAME.sub("__main__.", text)  # moved classes belong to the package
    return text


def comparable(events: list[dict], folder: str, left_out: set[int]) -> list[dict]:
    return [{"cell": e["cell"], "kind": e["kind"], "text": normalise(e["text"], folder)}
            for e in events if e["cell"] not in left_out]


def first_difference(before: list[dict], after: list[dict]) -> tuple[str, dict | None, dict | None] | None:
    """The first place the two transcripts differ, as (tag, before event, after event).

    The transcripts are aligned (difflib), so that an event one side has and the other lacks
    shows as itself ("insert" / "delete") instead of shifting every later pair.
    """
    sm = difflib.SequenceMatcher(None, [(e["kind"], e["text"]) for e in before],
                                 [(e["kind"], e["text"]) for e in after], autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag != "equal":
            return tag, (before[i1] if i1 < i2 else None), (after[j1] if j1 < j2 else None)
    return None


def differing_events(before: list[dict], after: list[dict]) -> frozenset:
    """Every event that one transcript has and the other lacks, once aligned."""
    sm = difflib.SequenceMatcher(None, [(e["kind"], e["text"]) for e in before],
                                 [(e["kind"], e["text"]) for e in after], autojunk=False)
    out = set()
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag != "equal":
            out.update(("before", e["kind"], e["text"]) for e in before[i1:i2])
            out.update(("after", e["kind"], e["text"]) for e in after[j1:j2])
    return frozenset(out)


def describe_difference(diff: tuple[str, dict | None, dict | None], first: str = "before",
                        second: str = "after") -> str:
    tag, b, a = diff
    if tag == "delete":
        return f"{describe_event(b)} {first}, not {second}"
    if tag == "insert":
        return f"{describe_event(a)} {second}, not {first}"
    return f"{describe_event(b)} {first}, {describe_event(a)} {second}"


def describe_event(e: dict | None) -> str:
    if e is None:
        return "nothing more"
    text = e["text"]
    what = {
        "stdout": lambda: f"prints {text!r}",
        "stderr": lambda: f"writes {text!r} to stderr",
        "display": lambda: f"displays {text!r}",
        "result": lambda: f"shows Out {text!r}",
        "error": lambda: f"raises {text}",
    }.get(e["kind"], lambda: f"{e['kind']} {text!r}")()
    return f"cell {e['cell']} {what}"


def short(s: Any, limit: int = 60) -> str:
    s = s if isinstance(s, str) else repr(s)
    return s if len(s) <= limit else s[:limit] + "…"


@dataclass
class Outcome:
    """What checking one notebook found. ``category`` is None when all is well."""

    category: str | None = None
    detail: str = ""
    key: tuple = ()  # the kind of failure: the first difference, or the error
    report: str = ""  # nbhoist's output
    moved: int = 0  # definitions and %%writefile modules nbhoist moved
    kept: int = 0
    differences: frozenset = frozenset()  # every differing event (behaviour failures)
    rewritten: list[str] = field(default_factory=list)
    modules: dict[str, str] = field(default_factory=dict)
    state: dict[str, bytes] = field(default_factory=dict)  # the folder extract left
    given: dict | None = None  # the notebook as nbhoist was given it

    @property
    def ok(self) -> bool:
        return self.category is None


def package_modules(folder: str) -> dict[str, str]:
    """Dotted module name → source of every .py file under the package."""
    out = {}
    root = os.path.join(folder, PACKAGE)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, folder)[:-3].split(os.sep)
                if rel[-1] == "__init__":
                    rel = rel[:-1]
                with open(path, encoding="utf-8", errors="replace") as f:
                    out[".".join(rel)] = f.read()
    return out


def tree(folder: str) -> dict[str, bytes]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in filenames:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, folder)] = f.read()
    return out


def run_nbhoist(nbhoist: str, folder: str) -> subprocess.CompletedProcess:
    return subprocess.run([nbhoist, "extract", NOTEBOOK, "--package", PACKAGE, "--color", "never"],
                          cwd=folder, capture_output=True, timeout=EXTRACT_TIMEOUT, check=False)


def check(doc: dict[str, Any], nbhoist: str, workdir: str | None = None) -> Outcome:
    """Run the differential check on one notebook. Needs _prepare_zygote() first."""
    root = workdir or tempfile.mkdtemp(prefix="nbhoist-fuzz-")
    try:
        return _check(doc, nbhoist, root)
    finally:
        if workdir is None:
            shutil.rmtree(root, ignore_errors=True)


def _check(doc: dict[str, Any], nbhoist: str, root: str) -> Outcome:
    # Each run in a folder of its own inside a parent of its own: `%cd ..` must not see what
    # the other run wrote.
    orig_dir = os.path.join(root, "original", "nb")
    ext_dir = os.path.join(root, "extracted", "nb")
    for d in (orig_dir, ext_dir):
        os.makedirs(d)
        write_notebook(os.path.join(d, NOTEBOOK), doc)

    before = run_forked(os.path.join(orig_dir, NOTEBOOK))
    if "crash" in before:
        return Outcome("harness", f"the original did not run: {before['crash']}", ("harness",))
    given = as_given(doc, before["events"])
    if given is not doc:
        write_notebook(os.path.join(ext_dir, NOTEBOOK), given)

    proc = run_nbhoist(nbhoist, ext_dir)
    report = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    if proc.returncode != 0:
        first = next((line for line in report.splitlines() if "rror" in line),
                     report.strip().splitlines()[-1] if report.strip() else "")
        return Outcome("extract-failed", f"nbhoist extract exited {proc.returncode}: "
                       f"{short(first, 200)}", ("extract-failed", proc.returncode), report)
    modules = package_modules(ext_dir)
    rewritten_cells = read_cells(os.path.join(ext_dir, NOTEBOOK))
    rewritten = [s for s, _ in rewritten_cells]
    outcome = Outcome(report=report, rewritten=rewritten, modules=modules, given=given)
    outcome.moved = len(re.findall(r"^  move ", report, re.MULTILINE))
    outcome.kept = len(re.findall(r"^  stay ", report, re.MULTILINE))

    for name, text in modules.items():
        try:
            compile(text, name, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as e:
            outcome.category = "module-compile"
            outcome.detail = f"{name} does not compile: {type(e).__name__}: {e}"
            outcome.key = ("module-compile", type(e).__name__)
            return outcome

    files = tree(ext_dir)
    outcome.state = files
    proc = run_nbhoist(nbhoist, ext_dir)
    second = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    if proc.returncode != 0 or tree(ext_dir) != files:
        outcome.category = "not-idempotent"
        changed = sorted(k for k in set(files) | set(tree(ext_dir))
                         if files.get(k) != tree(ext_dir).get(k))
        outcome.detail = (f"a second extract exited {proc.returncode} and changed "
                          f"{', '.join(changed) or 'nothing'}: {short(second, 200)}")
        outcome.key = ("not-idempotent",)
        return outcome

    after = run_forked(os.path.join(ext_dir, NOTEBOOK), import_modules=sorted(modules))
    if "crash" in after:
        outcome.category = "harness"
        outcome.detail = f"the rewritten notebook did not run: {after['crash']}"
        outcome.key = ("harness",)
        return outcome

    remaining = {cid for _, cid in rewritten_cells}
    removed = {i + 1 for i, (s, cid) in enumerate(read_cells(os.path.join(orig_dir, NOTEBOOK)))
               if s.lstrip().startswith("%%writefile") and cid not in remaining}
    b = comparable(before["events"], orig_dir, removed)
    a = comparable(after["events"], ext_dir, set())
    diff = first_difference(b, a)
    if diff is not None:
        tag, eb, ea = diff
        outcome.category = "behaviour"
        outcome.detail = describe_difference(diff)
        outcome.key = ("behaviour", tag,
                       (eb["kind"], eb["text"]) if eb else None,
                       (ea["kind"], ea["text"]) if ea else None)
        outcome.differences = differing_events(b, a)
        return outcome
    if after["import_errors"]:
        err = after["import_errors"][0]
        outcome.category = "module-import"
        outcome.detail = f"import {err['module']} raises {err['error']}: {short(err['message'], 120)}"
        outcome.key = ("module-import", err["error"])
        return outcome
    return outcome


def check_determinism(doc: dict[str, Any]) -> str | None:
    """Run a notebook twice in two folders; the first difference, or None."""
    root = tempfile.mkdtemp(prefix="nbhoist-fuzz-")
    try:
        runs = []
        for name in ("one", "two"):
            d = os.path.join(root, name)
            os.makedirs(d)
            write_notebook(os.path.join(d, NOTEBOOK), doc)
            result = run_forked(os.path.join(d, NOTEBOOK))
            if "crash" in result:
                return result["crash"]
            runs.append(comparable(result["events"], d, set()))
        diff = first_difference(*runs)
        if diff is None:
            return None
        return describe_difference(diff, "in one run", "in the other")
    finally:
        shutil.rmtree(root, ignore_errors=True)


# ───────────────────────────────────────────────────────────────────────────── shrinking ──

def _split_lines(block: Block) -> list[Block]:
    """A block's statements as separate blocks when it parses, else itself."""
    text = block.text
    if block.solo or text.lstrip().startswith("%"):
        return [block]
    try:
        tree_ = ast.parse(text)
    except SyntaxError:
        return [block]
    if len(tree_.body) <= 1:
        return [block]
    lines = text.splitlines()
    starts = []
    for node in tree_.body:
        start = node.lineno - 1
        for deco in getattr(node, "decorator_list", []):
            start = min(start, deco.lineno - 1)
        starts.append(start)
    starts[0] = 0  # comments above the first statement stay with it
    pieces = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(lines)
        piece = "\n".join(lines[start:end]).strip("\n")
        if piece:
            pieces.append(Block(block.production, piece, cell=block.cell))
    return pieces or [block]


def _line_groups(text: str) -> list[tuple[int, int]]:
    """(start, end) line ranges: each line with the more indented lines that follow it."""
    lines = text.splitlines()
    groups = []
    for i, line in enumerate(lines):
        if not line.strip() or line.lstrip().startswith("%%"):
            continue
        indent = len(line) - len(line.lstrip())
        end = i + 1
        while end < len(lines) and (not lines[end].strip()
                                    or len(lines[end]) - len(lines[end].lstrip()) > indent):
            end += 1
        groups.append((i, end))
    return groups


def ddmin(items: list, fails: Callable[[list], bool]) -> list:
    """Classic ddmin: the smallest subsequence of items (1-minimal) that still fails."""
    n = 2
    while len(items) >= 2:
        chunk = max(1, len(items) // n)
        subsets = [items[i:i + chunk] for i in range(0, len(items), chunk)]
        reduced = False
        for i in range(len(subsets)):
            complement = [x for j, s in enumerate(subsets) if j != i for x in s]
            if complement and fails(complement):
                items = complement
                n = max(n - 1, 2)
                reduced = True
                break
        if not reduced:
            if n >= len(items):
                break
            n = min(len(items), n * 2)
    return items


def same_failure(outcome: Outcome, failure: Outcome) -> bool:
    if outcome.category != failure.category:
        return False
    if failure.category == "behaviour":
        return bool(outcome.differences) and outcome.differences <= failure.differences
    return outcome.key == failure.key


class Shrinker:
    """Delta debugging over cells, then blocks, then lines, keeping the failure.

    A smaller notebook fails the same way when its failure has the same category and: for a
    behaviour failure, every event that differs was one that differed in the original (so
    unrelated differences can go, but no new one may appear); otherwise, the same error.
    """

    def __init__(self, nbhoist: str, failure: Outcome, budget: int = 200,
                 metadata: dict | None = None) -> None:
        self.nbhoist = nbhoist
        self.metadata = metadata
        self.failure = failure
        self.budget = budget
        self.tests = 0
        self.cache: dict[tuple[str, ...], bool] = {}

    def fails(self, cells: list[list[Block]]) -> bool:
        cells = [c for c in cells if c]
        if not cells:
            return False
        sources = tuple(cell_source(c) for c in cells)
        if sources in self.cache:
            return self.cache[sources]
        if self.tests >= self.budget:
            return False
        self.tests += 1
        outcome = check(notebook_doc(cells, self.metadata), self.nbhoist)
        result = same_failure(outcome, self.failure)
        self.cache[sources] = result
        return result

    def ddmin(self, items: list, rebuild: Callable[[list], list[list[Block]]]) -> list:
        """The smallest subsequence of items (1-minimal) whose notebook still fails."""
        return ddmin(items, lambda keep: self.fails(rebuild(keep)))

    def shrink(self, cells: list[list[Block]]) -> list[list[Block]]:
        # 1. cells
        idx = self.ddmin(list(range(len(cells))), lambda keep: [cells[i] for i in keep])
        cells = [cells[i] for i in idx]
        # 2. blocks, after splitting blocks into their top-level statements
        split_cells = [[p for b in c for p in _split_lines(b)] for c in cells]
        if self.fails(split_cells):
            cells = split_cells
        flat = [(ci, bi) for ci, c in enumerate(cells) for bi in range(len(c))]

        def rebuild(keep):
            keep = set(keep)
            return [[b for bi, b in enumerate(c) if (ci, bi) in keep] for ci, c in enumerate(cells)]

        kept = self.ddmin(flat, rebuild)
        cells = [c for c in rebuild(kept) if c]
        # 3. lines: drop a line with its indented body, one at a time, to a fixpoint
        changed = True
        while changed and self.tests < self.budget:
            changed = False
            for ci in range(len(cells)):
                for bi in range(len(cells[ci])):
                    block = cells[ci][bi]
                    for start, end in reversed(_line_groups(block.text)):
                        lines = block.text.splitlines()
                        text = "\n".join(lines[:start] + lines[end:]).strip("\n")
                        if not text.strip():
                            continue
                        candidate = [list(c) for c in cells]
                        candidate[ci][bi] = Block(block.production, text, block.solo, block.cell)
                        if self.fails(candidate):
                            cells = candidate
                            block = cells[ci][bi]
                            changed = True
        # 4. join cells where that still fails (fewer cells read more easily)
        i = 0
        while i + 1 < len(cells) and self.tests < self.budget:
            if not cells[i][0].solo and not cells[i + 1][0].solo:
                candidate = cells[:i] + [cells[i] + cells[i + 1]] + cells[i + 2:]
                if self.fails(candidate):
                    cells = candidate
                    continue
            i += 1
        return cells


# ─────────────────────────────────────────────────────────────────────── worker and main ──

def save_failure(out_dir: str, stem: str, title: str, nb: Notebook,
                 outcome: Outcome, original_cells: int, shrunk: bool, tests: int,
                 note: str = "") -> str:
    os.makedirs(out_dir, exist_ok=True)
    stem = os.path.join(out_dir, stem)
    cells = nb.cells
    sources = [cell_source(c) for c in cells]
    write_notebook(stem + ".ipynb", nb.doc())
    productions = sorted({b.production for c in cells for b in c})
    lines = [
        f"{title}: {outcome.category}",
        outcome.detail,
        (f"shrunk from {original_cells} cells to {len(cells)} in {tests} checks" if shrunk
         else f"not shrunk ({note})" if note else "not shrunk"),
        f"productions: {', '.join(productions)}",
        "",
        "── notebook ──",
    ]
    for i, s in enumerate(sources, 1):
        lines += [f"[{i}]", s]
    lines += outcome_lines(outcome)
    with open(stem + ".txt", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return stem + ".ipynb"


def outcome_lines(outcome: Outcome, rewritten: str = "rewritten by nbhoist",
                  modules: str = "") -> list[str]:
    """What extract left, for a failure's text: the notebook, the modules (their headings end
    with `modules`), and nbhoist's report."""
    lines = []
    if outcome.rewritten:
        lines += ["", f"── {rewritten} ──"]
        for i, s in enumerate(outcome.rewritten, 1):
            lines += [f"[{i}]", s]
    for name, text in outcome.modules.items():
        lines += ["", f"── {name}{modules} ──", text.rstrip()]
    if outcome.report:
        lines += ["", "── nbhoist extract ──", outcome.report.rstrip()]
    return lines


def task_notebook(task: dict) -> tuple[Notebook, str, str]:
    """The notebook a task names (generated, or a file to replay), its file stem and title."""
    if "path" in task:
        stem = os.path.splitext(os.path.basename(task["path"]))[0]
        return load_notebook(task["path"]), stem, task["path"]
    seed, index = task["seed"], task["index"]
    return (generate(seed, index, task.get("weights")), f"fuzz_{seed}_{index}",
            f"notebook {index} of seed {seed}")


def do_task(task: dict, nbhoist: str, out_dir: str, shrink_budget: int) -> dict:
    if task.get("rerun") or "case" in task:
        import fuzz_rerun

        return fuzz_rerun.do_rerun_task(task, nbhoist, out_dir, shrink_budget)
    nb, stem, title = task_notebook(task)
    doc = nb.doc()
    if task["op"] == "check":
        outcome = check(doc, nbhoist)
        return {"category": outcome.category, "detail": outcome.detail,
                "key": json.dumps(outcome.key), "moved": outcome.moved, "kept": outcome.kept}
    if task["op"] == "determinism":
        diff = check_determinism(doc)
        return {"category": "nondeterministic" if diff else None, "detail": diff or ""}
    # shrink, or save as it is
    outcome = check(doc, nbhoist)
    failure = outcome
    small = nb
    tests = 0
    if task["op"] == "shrink" and not outcome.ok:
        shrinker = Shrinker(nbhoist, failure, shrink_budget, nb.metadata)
        small = Notebook(shrinker.shrink(nb.cells), nb.metadata)
        tests = shrinker.tests
        outcome = check(small.doc(), nbhoist)
        if not same_failure(outcome, failure):  # a flaky failure: keep the notebook as it was
            small, outcome = nb, check(doc, nbhoist)
    cells = small.cells
    path = save_failure(out_dir, stem, title, small, outcome, len(nb.cells),
                        task["op"] == "shrink", tests, task.get("note", ""))
    return {"category": outcome.category, "detail": outcome.detail, "path": path,
            "cells": len(cells), "productions": sorted({b.production for c in cells for b in c})}


def serve(nbhoist: str, out_dir: str, shrink_budget: int) -> int:
    """Worker loop: one JSON task per line on stdin, one JSON result per line out."""
    import traceback

    proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nothing else may write to the protocol channel
    _prepare_zygote()
    for line in sys.stdin:
        task = json.loads(line)
        started = time.monotonic()
        try:
            result = do_task(task, nbhoist, out_dir, shrink_budget)
        except Exception:  # noqa: BLE001 - report it, keep serving
            result = {"category": "harness", "detail": traceback.format_exc(limit=3),
                      "key": json.dumps(["harness"])}
        result.update(op=task["op"], id=task["id"],
                      seconds=round(time.monotonic() - started, 3))
        proto.write(json.dumps(result) + "\n")
        proto.flush()
    return 0


@dataclass
class Failure:
    id: int
    category: str
    detail: str
    key: str
    path: str = ""
    productions: list[str] = field(default_factory=list)
    cells: int = 0


@dataclass
class FuzzRun:
    notebooks: int
    failures: list[Failure]
    seconds: float
    moved: int  # what nbhoist moved (definitions, constants, %%writefile modules), in all
    kept: int  # definitions it left in the notebooks
    changes: dict[str, int] = field(default_factory=dict)  # re-run mode: changes checked, by kind
    second_runs: int = 0  # re-run mode: notebooks whose change was checked (phase 2)


def fuzz(n: int, seed: int, nbhoist: str, jobs: int, out_dir: str, max_shrink: int = 20,
         shrink_budget: int = 200, determinism: bool = False, start: int = 0,
         replay: list[str] | None = None, weights: dict[str, float] | None = None,
         log: Callable[[str], None] = print, rerun: bool = False,
         strict_conflicts: bool = False) -> FuzzRun:
    """Check notebooks start..start+n-1 of `seed` (or the `replay` files) with `jobs` workers.

    With `rerun`, each notebook is changed after its extraction and extracted again
    (tests/python/fuzz_rerun.py); a `replay` path that is a saved re-run case (a folder with a
    case.json) is checked that way too.
    Every failure is saved to `out_dir`; the first one of each kind (the same first
    difference) is shrunk first, up to `max_shrink` of them.
    """
    started = time.monotonic()
    # Scratch folders on tmpfs when there is one: the runs create and delete many files.
    shm = "/dev/shm"
    scratch = tempfile.mkdtemp(prefix="nbhoist-fuzz-",
                               dir=shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None)
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1", TMPDIR=scratch)
    cmd = [sys.executable, os.path.abspath(__file__), "--serve", "--nbhoist", nbhoist or "-",
           "--out", out_dir, "--shrink-budget", str(shrink_budget)]
    op = "determinism" if determinism else "check"
    if replay is not None:
        tasks = {i: ({"case": os.path.abspath(p)} if os.path.isdir(p)
                     else {"path": os.path.abspath(p)}) for i, p in enumerate(replay)}
    else:
        tasks = {i: {"seed": seed, "index": i} for i in range(start, start + n)}
        if weights:
            for t in tasks.values():
                t["weights"] = weights
        if rerun:
            for t in tasks.values():
                t["rerun"] = True
    if strict_conflicts:
        for t in tasks.values():
            t["strict"] = True
    total = len(tasks)
    queue: list[dict] = [dict(t, op=op, id=i) for i, t in tasks.items()]
    queue.reverse()  # pop() from the end
    workers = [subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                                text=True, bufsize=1)
               for _ in range(max(1, min(jobs, total)))]
    busy: dict[int, dict] = {}
    failures: dict[int, Failure] = {}
    shrunk_keys: dict[str, int] = {}
    shrinks = 0
    done = 0
    moved = kept = second_runs = 0
    changes: dict[str, int] = {}
    try:
        while queue or busy:
            for i, w in enumerate(workers):
                if i not in busy and queue:
                    task = queue.pop()
                    busy[i] = task
                    w.stdin.write(json.dumps(task) + "\n")
                    w.stdin.flush()
            fds = {workers[i].stdout: i for i in busy}
            ready, _, _ = select.select(list(fds), [], [])
            for stream in ready:
                i = fds[stream]
                line = stream.readline()
                if not line:
                    raise RuntimeError(f"fuzz worker {i} died on task {busy[i]}")
                task = busy.pop(i)
                result = json.loads(line)
                tid = result["id"]
                if result["op"] in ("check", "determinism"):
                    done += 1
                    moved += result.get("moved", 0)
                    kept += result.get("kept", 0)
                    if result.get("phase") == 2:
                        second_runs += 1
                    for kind in result.get("kinds", []):
                        changes[kind] = changes.get(kind, 0) + 1
                    if result["category"]:
                        failure = Failure(tid, result["category"], result["detail"],
                                          result.get("key", ""))
                        failures[tid] = failure
                        if determinism or failure.category == "harness":
                            continue
                        base = tasks[tid]
                        if failure.key not in shrunk_keys and shrinks < max_shrink:
                            shrunk_keys[failure.key] = tid
                            shrinks += 1
                            queue.append(dict(base, op="shrink", id=tid))
                        else:
                            note = (f"fails like {shrunk_keys[failure.key]}"
                                    if failure.key in shrunk_keys else "--max-shrink reached")
                            queue.insert(0, dict(base, op="save", id=tid, note=note))
                    if done % 100 == 0:
                        log(f"  … {done}/{total} notebooks, {len(failures)} failures, "
                            f"{time.monotonic() - started:.0f} s")
                elif tid in failures:
                    failure = failures[tid]
                    if result["category"] == "harness":
                        failure.detail += f" (saving it failed: {result['detail']})"
                        continue
                    failure.path = result.get("path", "")
                    failure.productions = result.get("productions", [])
                    failure.cells = result.get("cells", 0)
                    if result["op"] == "shrink" and result["detail"]:
                        failure.detail = result["detail"]
    finally:
        for w in workers:
            w.stdin.close()
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()
            w.stdout.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return FuzzRun(total, [failures[k] for k in sorted(failures)],
                   time.monotonic() - started, moved, kept, changes, second_runs)


def replay_paths(paths: list[str]) -> list[str]:
    """What `--replay PATH...` checks: notebooks, saved re-run cases (folders with a
    case.json), and the notebooks and cases in other folders."""
    out = []
    for p in paths:
        if os.path.isfile(os.path.join(p, "case.json")) or not os.path.isdir(p):
            out.append(p)
        else:
            out += sorted(os.path.join(p, f) for f in os.listdir(p)
                          if f.endswith(".ipynb") or os.path.isfile(os.path.join(p, f, "case.json")))
    return out


def build_nbhoist() -> str:
    subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=REPO, check=True)
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target")
    return os.path.join(target, "release", "nbhoist")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="fuzz-behaviour", description="Differential behaviour fuzzer for nbhoist extract.")
    parser.add_argument("n", nargs="?", type=int, default=300, help="notebooks to check")
    parser.add_argument("--seed", type=int, default=1, help="seed of the run (default 1)")
    parser.add_argument("--start", type=int, default=0, help="index of the first notebook")
    parser.add_argument("--nbhoist", help="the nbhoist binary (default: cargo build --release)")
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", default=os.path.join(REPO, "target", "fuzz-behaviour",
                                                      "failures"),
                        help="where failing notebooks go")
    parser.add_argument("--max-shrink", type=int, default=20,
                        help="shrink at most this many failures (those failing in a new way)")
    parser.add_argument("--shrink-budget", type=int, default=200,
                        help="at most this many checks per shrink")
    parser.add_argument("--determinism", action="store_true",
                        help="only run each original notebook twice and compare (no nbhoist)")
    parser.add_argument("--dump", metavar="DIR",
                        help="only write the generated notebooks to DIR")
    parser.add_argument("--replay", nargs="+", metavar="NOTEBOOK",
                        help="check these notebooks (or the *.ipynb in these folders) instead "
                             "of generated ones; a saved re-run case (a folder with a "
                             "case.json), or a folder of them, is checked again as one")
    parser.add_argument("--rerun", action="store_true",
                        help="change each notebook after its extraction and extract it again "
                             "(tests/python/fuzz_rerun.py)")
    parser.add_argument("--strict-conflicts", action="store_true",
                        help="in re-run mode, fail when a run that exits 1 writes any file")
    parser.add_argument("--weight", action="append", default=[], metavar="PRODUCTION=W",
                        help="change the weight of a grammar production (repeatable); "
                             "the same seed then gives other notebooks")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv[1:])

    if args.serve:
        return serve(args.nbhoist, args.out, args.shrink_budget)
    weights = {}
    for item in args.weight:
        name, _, value = item.partition("=")
        if name not in dict(PRODUCTIONS):
            parser.error(f"no production {name!r}; they are: {', '.join(n for n, _ in PRODUCTIONS)}")
        weights[name] = float(value)
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
        for i in range(args.start, args.start + args.n):
            write_notebook(os.path.join(args.dump, f"fuzz_{args.seed}_{i}.ipynb"),
                           generate(args.seed, i, weights).doc())
        return 0
    nbhoist = ""
    if not args.determinism:
        nbhoist = os.path.abspath(args.nbhoist) if args.nbhoist else build_nbhoist()
    replay = replay_paths(args.replay) if args.replay else None
    run = fuzz(args.n, args.seed, nbhoist, args.jobs, args.out,
                             max_shrink=args.max_shrink, shrink_budget=args.shrink_budget,
                             determinism=args.determinism, start=args.start, replay=replay,
                             weights=weights, rerun=args.rerun,
                             strict_conflicts=args.strict_conflicts,
                             log=lambda s: print(s, file=sys.stderr, flush=True))
    failures, seconds, count = run.failures, run.seconds, run.notebooks
    for f in failures:
        where = f.path or (replay[f.id] if replay is not None else f"notebook {f.id}")
        print(f"FAIL {where} [{f.category}]: {f.detail}")
    rate = count / seconds if seconds else 0.0
    origin = "replayed" if replay is not None else f"seed {args.seed}"
    if not args.determinism:
        print(f"nbhoist moved {run.moved} definitions, constants and modules, and kept "
              f"{run.kept}")
    if run.second_runs:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(run.changes.items()))
        print(f"re-run: {run.second_runs} changed notebooks extracted again ({kinds})")
    print(f"fuzz-behaviour: {count} notebooks, {len(failures)} failures ({origin}), "
          f"{seconds:.1f} s ({rate:.1f} notebooks/s, {args.jobs} jobs)")
    return 1 if failures else 0


if __name__ == "__main__":
    # fuzz_rerun imports this module by name: let it find this one, not a second copy.
    sys.modules.setdefault("fuzz_behaviour", sys.modules["__main__"])
    sys.exit(main(sys.argv))
