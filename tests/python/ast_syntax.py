#!/usr/bin/env python3
"""Reference answer for "which cells have syntax errors", from IPython and CPython's parser.

Usage: target/test-venv/bin/python tests/python/ast_syntax.py [--compile] NOTEBOOK.ipynb...

Prints one JSON object: ``{PATH: [CELL, ...], ..., "__skipped__": {PATH: REASON, ...}}``.
Each checked notebook maps to the sorted 1-based numbers of its code cells that do not
parse; cell numbers count every cell (markdown and raw ones too), as ``nbhoist scan``
does. Notebooks that are not JSON, not nbformat 4 or not for a Python kernel are listed
under ``"__skipped__"`` with the reason instead.

How a code cell is checked (the source is joined if it is a list of lines):

* If its first non-blank line starts with ``%%`` (a cell magic):
  ``%%writefile`` / ``%%file`` cells are skipped (their body is file content);
  ``%%time``, ``%%timeit`` and ``%%capture`` cells have their body (the lines after the
  magic line) checked as below, since IPython runs that body as notebook code;
  any other cell magic (``%%bash``, ``%%html``, ...) is skipped as opaque.
* Otherwise the source goes through IPython's
  ``TransformerManager().transform_cell`` (which turns ``%magic``, ``!cmd``, ``x?`` ...
  into Python) and then ``ast.parse``. Any exception from either marks the cell.

Only the parser's errors count: ``ast.parse`` accepts what only the compiler rejects
(``return`` outside a function, ``def f(a, a)``, ...), and so does this check.

With ``--compile``, a cell that parses is also compiled the way IPython runs it, and fails
if that raises: each top-level statement on its own (``Module([node])``, or
``Interactive([node])`` for a final expression statement) with
``PyCF_ALLOW_TOP_LEVEL_AWAIT`` and IPython's own compiler, which keeps the ``__future__``
features of the statements before. A ``%%capture`` body runs as a cell does; a ``%%time``
body compiles as one module, and a ``%%timeit`` body as one module and then inside the
function ``timeit`` runs, both without top-level ``await``. ``cell_compile_error`` tells
which statement fails.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import warnings
from dataclasses import dataclass
from typing import Any

from IPython.core.compilerop import CachingCompiler
from IPython.core.inputtransformer2 import TransformerManager

SKIPPED_KEY = "__skipped__"

# Cell magics whose body IPython runs as notebook code.
CODE_BODY_MAGICS = frozenset({"time", "timeit", "capture"})
# Cell magics whose body is a file's content.
FILE_MAGICS = frozenset({"writefile", "file"})

_MAGIC_NAME = re.compile(r"%%(\S*)")

_transformer = TransformerManager()

# `timeit`'s template (IPython.core.magics.execution), with the body in the loop.
_TIMEIT_TEMPLATE = """\
def inner(_it, _timer):
    pass
    _t0 = _timer()
    for _i in _it:
        pass
    _t1 = _timer()
    return _t1 - _t0
"""


class NotChecked(Exception):
    """The notebook is not one this check applies to; the message says why."""


def cell_source(cell: Any) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        if not all(isinstance(part, str) for part in source):
            raise NotChecked("a cell's source is not text")
        return "".join(source)
    if isinstance(source, str):
        return source
    raise NotChecked("a cell's source is not text")


def kernel_language(metadata: Any) -> str | None:
    """The notebook's language as its metadata tells it, lower-cased; None if it does not."""
    if not isinstance(metadata, dict):
        return None
    kernelspec = metadata.get("kernelspec")
    if isinstance(kernelspec, dict) and isinstance(kernelspec.get("language"), str):
        return kernelspec["language"].lower()
    language_info = metadata.get("language_info")
    if isinstance(language_info, dict) and isinstance(language_info.get("name"), str):
        return language_info["name"].lower()
    if isinstance(kernelspec, dict) and isinstance(kernelspec.get("name"), str):
        return kernelspec["name"].lower()
    return None


def transform_and_parse(source: str) -> tuple[ast.Module | None, str | None]:
    """IPython's transform + ``ast.parse`` of ``source``: (tree, None), or (None, why not)."""
    try:
        transformed = _transformer.transform_cell(source)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(transformed), None
    except SyntaxError as e:
        return None, f"{type(e).__name__}: {e.msg} (line {e.lineno}, column {e.offset})"
    except Exception as e:  # anything else the transformer or the parser raise
        return None, f"{type(e).__name__}: {e}"


def python_syntax_error(source: str) -> str | None:
    """Why IPython's transform + ``ast.parse`` reject ``source``; None if they accept it."""
    return transform_and_parse(source)[1]


def _describe(error: Exception) -> str:
    if isinstance(error, SyntaxError):
        return f"{type(error).__name__}: {error.msg} (line {error.lineno})"
    return f"{type(error).__name__}: {error}"


def _compile_each(tree: ast.Module) -> tuple[int, str] | None:
    """Compiles the statements of a cell one by one, as IPython's ``run_ast_nodes`` does:
    (index of the first that fails, why), or None."""
    compiler = CachingCompiler()
    last = len(tree.body) - 1
    for index, node in enumerate(tree.body):
        if index == last and isinstance(node, ast.Expr):
            module, mode = ast.Interactive([node]), "single"
        else:
            module, mode = ast.Module([node], []), "exec"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with compiler.extra_flags(ast.PyCF_ALLOW_TOP_LEVEL_AWAIT):
                    compiler(module, "<cell>", mode)
        except Exception as e:  # SyntaxError mostly; ValueError for a malformed tree
            return index, _describe(e)
    return None


def _compile_timed(tree: ast.Module, timeit: bool) -> str | None:
    """Compiles a ``%%time`` / ``%%timeit`` body as the magic does; why it fails, or None."""
    compiler = CachingCompiler()
    body = tree.body
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if timeit:
                compiler(ast.Module(body, []), "<timeit>", "exec")
                template = ast.parse(_TIMEIT_TEMPLATE)
                inner = template.body[0]
                loop = inner.body[2]
                loop.body = body or [ast.Pass()]
                ast.fix_missing_locations(template)
                compiler(template, "<timeit>", "exec")
            elif len(body) == 1 and isinstance(body[0], ast.Expr):
                compiler(ast.Expression(body[0].value), "<time>", "eval")
            else:
                if len(body) > 1 and isinstance(body[-1], ast.Expr):
                    compiler(ast.Expression(body[-1].value), "<time>", "eval")
                    body = body[:-1]
                compiler(ast.Module(body, []), "<time>", "exec")
    except Exception as e:
        return _describe(e)
    return None


@dataclass
class CompileError:
    """A cell that parses but does not compile as IPython runs it."""

    statement: int  # the first top-level statement that does not run (see cell_compile_error)
    reason: str


def _magic_body(source: str) -> tuple[str, str] | None:
    """(name, body) of a cell magic cell; None for ordinary code."""
    lines = source.splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None or not lines[first].lstrip().startswith("%%"):
        return None
    magic = _MAGIC_NAME.match(lines[first].lstrip())
    return (magic.group(1) if magic else ""), "".join(lines[first + 1:])


def cell_compile_error(source: str) -> CompileError | None:
    """How a code cell that parses fails to compile as IPython runs it; None if it compiles
    (or does not parse, or is not Python).

    ``statement`` counts the cell's top-level statements from 0, the ``%%`` line of a cell
    magic being statement 0 (as nbhoist's parser sees it): the statements before it have run
    when it fails. A ``%%time`` / ``%%timeit`` cell fails as a whole (statement 0)."""
    magic = _magic_body(source)
    if magic is not None:
        name, body = magic
        if name not in CODE_BODY_MAGICS:
            return None
        tree = transform_and_parse(body)[0]
        if tree is None:
            return None
        if name == "capture":
            failed = _compile_each(tree)
            return None if failed is None else CompileError(failed[0] + 1, failed[1])
        reason = _compile_timed(tree, timeit=name == "timeit")
        return None if reason is None else CompileError(0, f"in the %%{name} body: {reason}")
    tree = transform_and_parse(source)[0]
    if tree is None:
        return None
    failed = _compile_each(tree)
    return None if failed is None else CompileError(failed[0], failed[1])


def cell_syntax_error(source: str, compile: bool = False) -> str | None:
    """The reason a code cell counts as having a syntax error; None if it does not. With
    ``compile``, a cell that parses but does not compile as IPython runs it counts too."""
    magic = _magic_body(source)
    if magic is not None:
        name, body = magic
        if name not in CODE_BODY_MAGICS:
            return None  # %%writefile / %%file content, or an opaque cell magic
        error = python_syntax_error(body)
        if error is not None:
            return f"in the %%{name} body: {error}"
    else:
        error = python_syntax_error(source)
        if error is not None:
            return error
    if compile:
        failed = cell_compile_error(source)
        if failed is not None:
            return f"statement {failed.statement} does not compile: {failed.reason}"
    return None


def check_notebook(path: str, compile: bool = False) -> dict[str, Any]:
    """``{"syntax_errors": {cell: reason}, "code_cells": [cell...]}``, cells numbered from 1
    over all cells (see ``cell_syntax_error`` for ``compile``); raises NotChecked when the
    notebook is not one to check."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise NotChecked(f"cannot read: {e.strerror or e}") from e
    try:
        nb = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise NotChecked(f"not JSON: {e}") from e
    if not isinstance(nb, dict):
        raise NotChecked("not a notebook: the JSON is not an object")
    if nb.get("nbformat") != 4:
        raise NotChecked(f"not nbformat 4 (nbformat: {nb.get('nbformat')!r})")
    language = kernel_language(nb.get("metadata"))
    if language is not None and "python" not in language:
        raise NotChecked(f"not a Python kernel (language: {language})")
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise NotChecked("not a notebook: no list of cells")

    errors: dict[int, str] = {}
    code_cells: list[int] = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise NotChecked(f"cell {number} is not an object")
        if cell.get("cell_type") != "code":
            continue
        code_cells.append(number)
        error = cell_syntax_error(cell_source(cell), compile)
        if error is not None:
            errors[number] = error
    return {"syntax_errors": errors, "code_cells": code_cells}


def check_notebooks(paths: list[str], compile: bool = False) -> dict[str, Any]:
    """The document this script prints, for the given notebook paths."""
    result: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for path in paths:
        try:
            result[path] = sorted(check_notebook(path, compile)["syntax_errors"])
        except NotChecked as e:
            skipped[path] = str(e)
    result[SKIPPED_KEY] = skipped
    return result


def main(argv: list[str]) -> int:
    args = argv[1:]
    compile = bool(args) and args[0] == "--compile"
    if compile:
        args = args[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    json.dump(check_notebooks(args, compile), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
