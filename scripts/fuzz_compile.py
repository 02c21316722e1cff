"""Compiles the modules that the extract_plan fuzz target wrote for a sample of its corpus.

Usage: python3 scripts/fuzz_compile.py DUMP ARTIFACTS

DUMP holds one folder per input, as the target leaves it with NBHOIST_FUZZ_DUMP=DUMP: the
notebook it generated (nb.ipynb) and every .py file its extraction wrote. Each .py file is
compiled with compile(), in this one process. A module that does not compile is printed with
its error and its notebook, which is kept as ARTIFACTS/compile-<hash>.ipynb to become a
regression test; the exit code is then 1.
"""

import hashlib
import pathlib
import sys
import warnings


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    dump, artifacts = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    # Code copied from a notebook may hold an invalid escape: a warning, not an error.
    warnings.simplefilter("ignore")
    inputs = sorted(path for path in dump.iterdir() if path.is_dir())
    modules = failures = 0
    for folder in inputs:
        for module in sorted(folder.rglob("*.py")):
            modules += 1
            try:
                compile(module.read_bytes(), str(module), "exec", dont_inherit=True)
            except (SyntaxError, ValueError) as error:
                failures += 1
                notebook = (folder / "nb.ipynb").read_bytes()
                artifacts.mkdir(parents=True, exist_ok=True)
                kept = artifacts / f"compile-{hashlib.sha1(notebook).hexdigest()}.ipynb"
                kept.write_bytes(notebook)
                print(f"fuzz: {module.relative_to(folder)} does not compile: {error}")
                print(module.read_text(encoding="utf-8", errors="replace"))
                print(f"fuzz: from this notebook, kept as {kept}:")
                print(notebook.decode("utf-8", errors="replace"))
    version = ".".join(map(str, sys.version_info[:3]))
    print(
        f"fuzz: extract_plan: {modules} modules written for {len(inputs)} inputs, "
        f"compiled with Python {version}: {failures} failed"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
