"""Builds the fuzz targets' seed corpora from a folder of real notebooks.

Usage: python3 scripts/fuzz_seed.py NOTEBOOKS OUT

Writes OUT/notebook_roundtrip/ (whole notebooks up to 64 KiB) and OUT/cell_decisions/ (the
text of each distinct code cell up to 16 KiB), each file named by the hash of its content,
so that running it again adds nothing. extract_plan draws its notebooks from a grammar and
needs no seeds.
"""

import hashlib
import json
import pathlib
import sys

NOTEBOOK_LIMIT = 64 * 1024
CELL_LIMIT = 16 * 1024
MAX_CELLS = 5000


def save(folder: pathlib.Path, content: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(content).hexdigest()).write_bytes(content)


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    notebooks, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    cells = 0
    for path in sorted(notebooks.rglob("*.ipynb")):
        if not path.is_file():
            continue
        content = path.read_bytes()
        if len(content) <= NOTEBOOK_LIMIT:
            save(out / "notebook_roundtrip", content)
        try:
            notebook = json.loads(content)
        except (ValueError, UnicodeDecodeError):
            continue
        for cell in notebook.get("cells", []) if isinstance(notebook, dict) else []:
            if not isinstance(cell, dict) or cell.get("cell_type") != "code":
                continue
            source = cell.get("source", "")
            if isinstance(source, list):
                source = "".join(s for s in source if isinstance(s, str))
            if not isinstance(source, str):
                continue
            text = source.encode("utf-8", "surrogatepass")
            if 0 < len(text) <= CELL_LIMIT and cells < MAX_CELLS:
                save(out / "cell_decisions", text)
                cells += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
