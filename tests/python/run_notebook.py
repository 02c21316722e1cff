#!/usr/bin/env python3
"""Run a notebook's code cells in a real IPython shell and print what they output.

Usage: target/test-venv/bin/python tests/python/run_notebook.py NOTEBOOK.ipynb

nbhoist's tests run a notebook before and after rewriting it and compare the two
transcripts. The cells run top to bottom in one ``InteractiveShell`` (the class a Jupyter
kernel builds on), the way a kernel would run them:

* the working directory is the notebook's folder, and ``''`` (that folder) is
  ``sys.path[0]``, so modules next to the notebook (or written by ``%%writefile``) import;
* magics, ``!cmd``, ``%%writefile``, ``%load_ext autoreload`` / ``%autoreload 2``,
  top-level ``await`` and ``display()`` work; ``Out``/``_`` are kept as in a kernel;
* ``input()`` sees end of file and ``sys.argv`` holds only this script's path;
* ``exit()`` / ``quit()`` end the run after that cell, as the kernel would shut down.

Unlike Jupyter's "Run All", the run does NOT stop at the first error: every code cell runs,
so that one transcript shows everything that differs after the first failure. Both the
original and the rewritten notebook are run the same way, so the comparison stays fair.

Output: one JSON document on stdout, a list of events in the order they happened::

    {"cell": N, "kind": KIND, "text": TEXT}

``cell`` is the 1-based index of the cell among ALL cells of the notebook (markdown and raw
cells count too, as in ``nbhoist scan``). ``kind`` is one of:

* ``"stdout"`` / ``"stderr"``: text written to ``sys.stdout`` / ``sys.stderr``, to file
  descriptors 1 / 2 (``os.system``, C extensions), or by ``!cmd`` (whose stdout and stderr
  are merged into ``"stdout"``, as a kernel's terminal shows them). Consecutive writes to
  the same stream in the same cell are joined into one event.
* ``"display"``: the ``text/plain`` form of something shown with ``display()`` (or any
  other use of the display publisher); ``null`` if it had no ``text/plain`` form.
* ``"result"``: the ``text/plain`` form of the cell's value (what Jupyter shows as Out[n]).
* ``"error"``: the name of the exception's type (``"NameError"``, ``"SyntaxError"``,
  ``"UsageError"``, ...) for each error the shell reported; tracebacks are not recorded.

The JSON is written with ``ensure_ascii=False`` (UTF-8). Exit status: 0 when the notebook
ran (whatever its cells did), 1 when it could not be read, 2 on bad usage.
"""

from __future__ import annotations

import codecs
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
from typing import Any


def load_cells(path: str) -> list[dict[str, Any]]:
    """The notebook's cells (nbformat 4 only), with each source joined into one string."""
    with open(path, "rb") as f:
        nb = json.loads(f.read().decode("utf-8"))
    if not isinstance(nb, dict) or nb.get("nbformat") != 4:
        version = nb.get("nbformat") if isinstance(nb, dict) else None
        raise ValueError(f"not an nbformat 4 notebook (nbformat: {version!r})")
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise ValueError("notebook has no list of cells")
    out = []
    for cell in cells:
        source = cell.get("source", "") if isinstance(cell, dict) else ""
        if isinstance(source, list):
            source = "".join(source)
        out.append({"cell_type": cell.get("cell_type") if isinstance(cell, dict) else None,
                    "source": source})
    return out


class Recorder:
    """Collects the events of the run, in order, for the cell that is running."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.cell = 0
        self.fd_captures: list[FdCapture] = []
        self._lock = threading.RLock()

    def _append(self, kind: str, text: str | None) -> None:
        last = self.events[-1] if self.events else None
        if (kind in ("stdout", "stderr") and last is not None
                and last["cell"] == self.cell and last["kind"] == kind):
            last["text"] += text
        else:
            self.events.append({"cell": self.cell, "kind": kind, "text": text})

    def drain_fds(self) -> None:
        """Move what was written to file descriptors 1 and 2 so far into the events."""
        with self._lock:
            for stream in (sys.__stdout__, sys.__stderr__):
                try:
                    if stream is not None:
                        stream.flush()
                except (OSError, ValueError):
                    pass
            for capture in self.fd_captures:
                text = capture.read_new()
                if text:
                    self._append(capture.kind, text)

    def emit(self, kind: str, text: str | None) -> None:
        with self._lock:
            self.drain_fds()
            if kind in ("stdout", "stderr") and not text:
                return
            self._append(kind, text)

    def has_error(self, cell: int) -> bool:
        return any(e["cell"] == cell and e["kind"] == "error" for e in self.events)


class CaptureStream(io.TextIOBase):
    """Stands in for sys.stdout / sys.stderr while the cells run."""

    def __init__(self, recorder: Recorder, kind: str) -> None:
        super().__init__()
        self._recorder = recorder
        self._kind = kind

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return "strict"

    @property
    def name(self) -> str:
        return f"<{self._kind}>"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, s: str) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        self._recorder.emit(self._kind, s)
        return len(s)

    def flush(self) -> None:
        pass


class FdCapture:
    """Points a file descriptor at a temporary file whose new content can be read back."""

    def __init__(self, fd: int, kind: str) -> None:
        self.fd = fd
        self.kind = kind
        self._saved = os.dup(fd)
        self._file = tempfile.TemporaryFile()
        self._pos = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        os.dup2(self._file.fileno(), fd)

    def read_new(self) -> str:
        chunks = []
        while True:
            chunk = os.pread(self._file.fileno(), 1 << 16, self._pos)
            if not chunk:
                break
            self._pos += len(chunk)
            chunks.append(chunk)
        return self._decoder.decode(b"".join(chunks)) if chunks else ""

    def restore(self) -> None:
        os.dup2(self._saved, self.fd)
        os.close(self._saved)
        self._file.close()


def _shell_program() -> str:
    # IPython runs `!cmd` with $SHELL (or sh) -c cmd.
    return os.environ.get("SHELL") or "/bin/sh"


def run_system(cmd: str) -> int:
    """`!cmd`: run through the shell, stdout and stderr merged into sys.stdout.

    Replaces IPython's pty-based runner, whose output depends on the terminal (``\\r\\n``
    line ends, colours) and which needs a pty. Returns the exit status, or minus the
    signal number, like IPython's.
    """
    sys.stdout.flush()
    proc = subprocess.run([_shell_program(), "-c", cmd], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    sys.stdout.write(proc.stdout.decode("utf-8", "replace"))
    return proc.returncode


def run_getoutput(cmd: str) -> str:
    """`x = !cmd` and `%sx`: the command's merged stdout and stderr."""
    proc = subprocess.run([_shell_program(), "-c", cmd], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    return proc.stdout.decode("utf-8", "replace")


def make_shell(recorder: Recorder):
    from IPython.core import interactiveshell
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    class RecordingDisplayHook(DisplayHook):
        """The cell's value (Out[n]) becomes a "result" event instead of printed text."""

        def write_output_prompt(self) -> None:
            pass

        def write_format_data(self, format_dict, md_dict=None) -> None:
            recorder.emit("result", format_dict.get("text/plain"))

        def finish_displayhook(self) -> None:
            self._is_active = False

    class RecordingDisplayPublisher(DisplayPublisher):
        """display() becomes a "display" event."""

        def publish(self, data, metadata=None, source=None, *, transient=None,
                    update=False, **kwargs) -> None:
            recorder.emit("display", data.get("text/plain") if isinstance(data, dict) else None)

        def clear_output(self, wait=False) -> None:
            pass

    class RecordingShell(InteractiveShell):
        """Errors become "error" events (the exception's type name), without tracebacks."""

        displayhook_class = RecordingDisplayHook
        display_pub_class = RecordingDisplayPublisher

        def showtraceback(self, exc_tuple=None, filename=None, tb_offset=None,
                          exception_only=False, running_compiled_code=False) -> None:
            try:
                etype, _value, _tb = self._get_exc_info(exc_tuple)
            except ValueError:
                return
            recorder.emit("error", etype.__name__)

        def showsyntaxerror(self, filename=None, running_compiled_code=False) -> None:
            self.showtraceback()

        def show_usage_error(self, exc) -> None:
            recorder.emit("error", type(exc).__name__)

        def ask_exit(self) -> None:
            # exit() / quit(): a kernel would shut down, so no later cell runs.
            self.exit_now = True

    # `!cmd`, `%pip`, `%sx` and `x = !cmd` go through these module-level functions.
    interactiveshell.system = run_system
    interactiveshell.getoutput = run_getoutput

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    return RecordingShell.instance(config=config)


def run(path: str) -> list[dict[str, Any]]:
    cells = load_cells(path)
    notebook_dir = os.path.dirname(os.path.abspath(path))

    # Kernel-like process state: cwd = the notebook's folder, '' first on sys.path,
    # no command-line arguments, no stdin, and a private IPython directory.
    script_dir = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != script_dir]
    sys.path.insert(0, "")
    sys.argv = [sys.argv[0]]
    sys.stdin = io.StringIO()
    os.chdir(notebook_dir)

    recorder = Recorder()
    with tempfile.TemporaryDirectory(prefix="nbhoist-ipython-") as ipython_dir:
        os.environ["IPYTHONDIR"] = ipython_dir
        shell = make_shell(recorder)

        saved_streams = (sys.stdout, sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        recorder.fd_captures = [FdCapture(1, "stdout"), FdCapture(2, "stderr")]
        sys.stdout = CaptureStream(recorder, "stdout")
        sys.stderr = CaptureStream(recorder, "stderr")
        try:
            for number, cell in enumerate(cells, start=1):
                if cell["cell_type"] != "code":
                    continue
                recorder.cell = number
                result = shell.run_cell(cell["source"], store_history=True)
                recorder.drain_fds()
                error = result.error_before_exec or result.error_in_exec
                if error is not None and not recorder.has_error(number):
                    recorder.emit("error", type(error).__name__)
                if shell.exit_now:
                    break
            recorder.drain_fds()
        finally:
            sys.stdout, sys.stderr = saved_streams
            for capture in recorder.fd_captures:
                capture.restore()
            recorder.fd_captures = []
            shell.history_manager.end_session()
    return recorder.events


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1].startswith("-"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    path = argv[1]
    try:
        load_cells(path)
    except (OSError, ValueError) as e:
        print(f"run_notebook.py: cannot read {path}: {e}", file=sys.stderr)
        return 1
    events = run(path)
    document = json.dumps(events, ensure_ascii=False, indent=1)
    out = os.fdopen(os.dup(1), "wb")
    with out:
        out.write(document.encode("utf-8", "replace") + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
