#!/usr/bin/env python3
"""Reference answer for "which cells have syntax errors", from IPython and CPython's parser.

Usage: target/test-venv/bin/python tests/python/ast_syntax.py NOTEBOOK.ipynb...

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
(``return`` outside a function, top-level ``await``, ...), and so does this check.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import warnings
from typing import Any

from IPython.core.inputtransformer2 import TransformerManager

SKIPPED_KEY = "__skipped__"

# Cell magics whose body IPython runs as notebook code.
CODE_BODY_MAGICS = frozenset({"time", "timeit", "capture"})
# Cell magics whose body is a file's content.
FILE_MAGICS = frozenset({"writefile", "file"})

_MAGIC_NAME = re.compile(r"%%(\S*)")

_transformer = TransformerManager()


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


def python_syntax_error(source: str) -> str | None:
    """Why IPython's transform + ``ast.parse`` reject ``source``; None if they accept it."""
    try:
        transformed = _transformer.transform_cell(source)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(transformed)
    except SyntaxError as e:
        return f"{type(e).__name__}: {e.msg} (line {e.lineno}, column {e.offset})"
    except Exception as e:  # anything else the transformer or the parser raise
        return f"{type(e).__name__}: {e}"
    return None


def cell_syntax_error(source: str) -> str | None:
    """The reason a code cell counts as having a syntax error; None if it does not."""
    lines = source.splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = _MAGIC_NAME.match(lines[first].lstrip())
        name = magic.group(1) if magic else ""
        if name in CODE_BODY_MAGICS:
            error = python_syntax_error("".join(lines[first + 1:]))
            return None if error is None else f"in the %%{name} body: {error}"
        return None  # %%writefile / %%file content, or an opaque cell magic
    return python_syntax_error(source)


def check_notebook(path: str) -> dict[str, Any]:
    """``{"syntax_errors": {cell: reason}, "code_cells": [cell...]}``, cells numbered from 1
    over all cells; raises NotChecked when the notebook is not one to check."""
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
        error = cell_syntax_error(cell_source(cell))
        if error is not None:
            errors[number] = error
    return {"syntax_errors": errors, "code_cells": code_cells}


def check_notebooks(paths: list[str]) -> dict[str, Any]:
    """The document this script prints, for the given notebook paths."""
    result: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for path in paths:
        try:
            result[path] = sorted(check_notebook(path)["syntax_errors"])
        except NotChecked as e:
            skipped[path] = str(e)
    result[SKIPPED_KEY] = skipped
    return result


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    json.dump(check_notebooks(argv[1:]), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
